"""Scores a candidate generator against the real images and two reference generators.

The candidate gets every configured metric. An untrained generator of the same architecture (the
floor a trained model must clearly beat) and, when given, the last blessed baseline get the
primary metric only, on the same latent points and the same real statistics. The real images
are also scored against other real images (calibration.py), the ceiling the gate measures
precision and recall against. Reference statistics and the calibration come from the cache when
their inputs are unchanged.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable

import numpy as np

from components.gan_evaluator import calibration, scoring, sources
from components.gan_evaluator.settings import EvaluatorSettings
from components.gan_evaluator.sources import GeneratorSource
from components.gan_evaluator.statistics_cache import StatisticsCache, cached_sample_set
from metrics import extractors as extractors_lib
from metrics import storage
from metrics.sample_sets import FeatureSummary, SampleSet
from metrics.timing import PhaseTimer
from trainer_module import conditions


def build_extractors(settings: EvaluatorSettings) -> list:
    return [
        extractors_lib.build_extractor(
            name,
            seed=settings.embedding_seed,
            inception_ttur_path=settings.eval_inception_ttur_path,
            inception_keras_weights=settings.eval_inception_keras_weights,
        )
        for name in settings.eval_extractors
    ]


class Evaluation:
    """One evaluation: the real statistics and the real-vs-real calibration are computed (or
    loaded) once, then each generator."""

    def __init__(
        self,
        settings: EvaluatorSettings,
        real_key: dict,
        real_batches: Callable[[], Iterable[np.ndarray]],
        timer: PhaseTimer | None = None,
        attribute_table: np.ndarray | None = None,
    ):
        """`attribute_table`: a conditional candidate's real attribute rows, which its inputs
        ask for after z (trainer_module/conditions.py); None for an unconditional one."""
        self.settings = settings
        self.timer = timer or PhaseTimer()
        self.cache = StatisticsCache(settings.eval_cache_dir)
        self.extractors = build_extractors(settings)
        self.z = conditions.generator_inputs(
            settings.eval_num_samples, settings.z_dim, sources.SAMPLE_SEED, attribute_table
        )
        self.inputs_fingerprint = (
            "" if attribute_table is None else storage.fingerprint_arrays(attribute_table)
        )
        self.cache_hits = {}
        # Twice the subset: one half is every candidate's reference, the other the calibration's.
        kept = self._sample_set(
            "real",
            real_key,
            real_batches,
            self.extractors,
            keep_images=True,
            source="reading",
            subset_size=2 * settings.eval_feature_subset_size,
        )
        self.splits = {
            name: calibration.split(summary.subset, settings.eval_feature_subset_size)
            for name, summary in kept.features.items()
        }
        self.real = SampleSet(
            {
                name: FeatureSummary(summary.statistics, self.splits[name].reference)
                for name, summary in kept.features.items()
            },
            kept.images,
        )
        self.real_vs_real = self._calibrate(real_key)

    def _image_subset_size(self, keep_images: bool) -> int:
        wanted = keep_images and self.settings.needs_images
        return self.settings.eval_image_subset_size if wanted else 0

    def _sample_set(
        self, role, key, batches, extractors, keep_images, source="generation", subset_size=None
    ):
        sample_set, hit = cached_sample_set(
            self.cache,
            key,
            batches,
            extractors,
            subset_size or self.settings.eval_feature_subset_size,
            self._image_subset_size(keep_images),
            cache_images=(role == "real"),
            timer=self.timer,
            source=source,
        )
        self.cache_hits[role] = hit
        return sample_set

    def _calibrate(self, real_key: dict) -> dict:
        """Real-vs-real values of every extractor, from the cache when the real images, the
        extractor and the sizes are unchanged."""
        values, hits = {}, []
        for extractor in self.extractors:
            key = calibration.cache_key(
                real_key,
                extractor.fingerprint(),
                self.settings.eval_feature_subset_size,
                self.settings,
            )
            stored = self.cache.load(key)
            hits.append(stored is not None)
            if stored is None:
                real_split = self.splits[extractor.name]
                with self.timer.phase("metrics/real_vs_real"):
                    computed = calibration.real_vs_real(extractor.name, real_split, self.settings)
                self.cache.save(key, calibration.to_arrays(computed, real_split.per_side))
            else:
                computed, _ = calibration.from_arrays(stored)
            values.update(computed)
        self.cache_hits["real_vs_real"] = all(hits)
        return values

    def _generated(self, role: str, generator: GeneratorSource, extractors, keep_images=False):
        generate, fingerprint = generator
        key = sources.generator_source_key(
            fingerprint,
            self.settings.eval_num_samples,
            self.settings.z_dim,
            self.inputs_fingerprint,
        )
        batches = functools.partial(
            sources.generated_batches, generate, self.z, self.settings.eval_batch_size
        )
        return self._sample_set(role, key, batches, extractors, keep_images)

    def primary_extractor(self):
        """The extractor of the primary metric: images -> features."""
        _, name = scoring.split_metric_key(self.settings.eval_primary_metric)
        return next(e for e in self.extractors if e.name == name)

    def _primary(self, fake) -> float:
        metric, _ = scoring.split_metric_key(self.settings.eval_primary_metric)
        with self.timer.phase(f"metrics/{metric}"):
            return scoring.primary_value(
                self.settings.eval_primary_metric, self.real, fake, self.settings
            )

    def primary_value(self, role: str, generator: GeneratorSource) -> float:
        return self._primary(self._generated(role, generator, [self.primary_extractor()]))

    def _primary_name(self) -> str:
        return scoring.split_metric_key(self.settings.eval_primary_metric)[1]

    def _gate_metrics(self, results: dict, fake: SampleSet) -> dict:
        """Precision and recall on the primary extractor, which the gate compares with their
        real-vs-real values, when the configured metrics leave them out."""
        name = self._primary_name()
        if f"precision/{name}" in results:
            return {}
        with self.timer.phase("metrics/prdc"):
            values, _ = scoring.feature_metric("prdc", name, self.real, fake, self.settings)
        return {
            key: value
            for key, value in values.items()
            if key.split("/")[0] in ("precision", "recall")
        }

    def _calibration_results(self) -> dict:
        """The calibration values of the metric families this evaluation reports, plus
        precision and recall (the gate's)."""
        families = set(self.settings.eval_metrics) | {"precision", "recall"}
        if "prdc" in families:
            families |= {"density", "coverage"}
        return {
            key: value for key, value in self.real_vs_real.items() if key.split("/")[0] in families
        }

    def count_warnings(self, fake: SampleSet) -> list:
        """A warning when the calibration's sample counts differ from the candidate's.

        Precision, recall, density, coverage and KID depend on the sample count, so the gate's
        comparison with real-vs-real is exact only when both use the same counts per side."""
        name = self._primary_name()
        per_side = self.splits[name].per_side
        real_count = len(self.real.features[name].subset)
        fake_count = len(fake.features[name].subset)
        if per_side == real_count == fake_count:
            return []
        real_total = self.real.features[name].statistics.count
        wanted = self.settings.eval_feature_subset_size
        return [
            f"sample counts differ: the real-vs-real calibration compares {per_side} real "
            f"images with {per_side} others, the candidate {real_count} real images with "
            f"{fake_count} generated ones (equal counts need {2 * wanted} real images, "
            f"2 x eval_feature_subset_size, and {wanted} generated; there are "
            f"{real_total} real and {self.settings.eval_num_samples} generated); precision, "
            f"recall, density, coverage and KID depend on the count, so the gate's "
            f"comparison with real-vs-real is approximate"
        ]

    def score(
        self,
        candidate: GeneratorSource,
        untrained: GeneratorSource,
        baseline: GeneratorSource | None = None,
    ) -> tuple[dict, list]:
        """(metric values, warnings) of the candidate, with the reference generators' primary
        metric under <primary>_untrained, <primary>_ratio_to_untrained and <primary>_baseline,
        and the real-vs-real calibration under <metric>/<extractor>_real_vs_real."""
        fake = self._generated("candidate", candidate, self.extractors, keep_images=True)
        results, warnings = scoring.score(self.real, fake, self.settings, self.timer)
        primary = self.settings.eval_primary_metric
        if primary not in results:  # not among the configured metrics: the gate still needs it
            results[primary] = self._primary(fake)
        results.update(self._gate_metrics(results, fake))
        results.update(self._calibration_results())
        warnings.extend(self.count_warnings(fake))
        results[f"{primary}_untrained"] = self.primary_value("untrained", untrained)
        untrained_value = results[f"{primary}_untrained"]
        results[f"{primary}_ratio_to_untrained"] = (
            results[primary] / untrained_value if untrained_value else math.inf
        )
        if baseline is not None:
            results[f"{primary}_baseline"] = self.primary_value("baseline", baseline)
        name = self._primary_name()
        results["num_real_images"] = self.real.features[name].statistics.count
        results["num_generated_images"] = self.settings.eval_num_samples
        results["num_real_vs_real_images"] = self.splits[name].per_side
        results["extractors"] = {e.name: e.describe() for e in self.extractors}
        return results, warnings
