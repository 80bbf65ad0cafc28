"""Scores a candidate generator against the real images and two reference generators.

The candidate gets every configured metric. An untrained generator of the same architecture (the
floor a trained model must clearly beat) and, when given, the last blessed baseline get the
primary metric only, on the same latent points and the same real statistics. Reference
statistics come from the cache when their inputs are unchanged.
"""
from __future__ import annotations

import dataclasses
import functools
import math
from typing import Callable, Iterable, Optional

import numpy as np

from components.gan_evaluator import extractors as extractors_lib
from components.gan_evaluator import scoring, sources
from components.gan_evaluator.sources import GeneratorSource
from components.gan_evaluator.statistics_cache import StatisticsCache, cached_sample_set
from components.gan_evaluator.timing import PhaseTimer

@dataclasses.dataclass(frozen=True)
class EvaluationSettings:
    num_samples: int = 2000
    z_dim: int = 100
    batch_size: int = 250
    extractors: tuple = ("random_embedding",)
    primary_metric: str = "fid/random_embedding"
    metrics: scoring.MetricSettings = scoring.MetricSettings()
    feature_subset_size: int = 2000
    image_subset_size: int = 1000
    embedding_seed: int = 0
    inception_ttur_path: str = ""
    inception_keras_weights: str = ""
    cache_dir: str = ""

    def __post_init__(self):
        metric, name = scoring.split_metric_key(self.primary_metric)
        if metric not in scoring.PRIMARY_METRICS or name not in self.extractors:
            raise ValueError(
                f"the primary metric must be one of {scoring.PRIMARY_METRICS} on a configured "
                f"extractor {self.extractors}, e.g. fid/{self.extractors[0]}; "
                f"got {self.primary_metric!r}")

    def build_extractors(self) -> list:
        return [extractors_lib.build_extractor(
            name, seed=self.embedding_seed, inception_ttur_path=self.inception_ttur_path,
            inception_keras_weights=self.inception_keras_weights) for name in self.extractors]


class Evaluation:
    """One evaluation: the real statistics are computed (or loaded) once, then each generator."""

    def __init__(self, settings: EvaluationSettings, real_key: dict,
                 real_batches: Callable[[], Iterable[np.ndarray]],
                 timer: Optional[PhaseTimer] = None):
        self.settings = settings
        self.timer = timer or PhaseTimer()
        self.cache = StatisticsCache(settings.cache_dir)
        self.extractors = settings.build_extractors()
        self.z = sources.latent_points(settings.num_samples, settings.z_dim)
        self.cache_hits = {}
        self.real = self._sample_set("real", real_key, real_batches, self.extractors,
                                     keep_images=True, source="reading")

    def _image_subset_size(self, keep_images: bool) -> int:
        wanted = keep_images and self.settings.metrics.needs_images
        return self.settings.image_subset_size if wanted else 0

    def _sample_set(self, role, key, batches, extractors, keep_images, source="generation"):
        sample_set, hit = cached_sample_set(
            self.cache, key, batches, extractors, self.settings.feature_subset_size,
            self._image_subset_size(keep_images), cache_images=(role == "real"),
            timer=self.timer, source=source)
        self.cache_hits[role] = hit
        return sample_set

    def _generated(self, role: str, generator: GeneratorSource, extractors, keep_images=False):
        generate, fingerprint = generator
        key = sources.generator_source_key(fingerprint, self.settings.num_samples,
                                           self.settings.z_dim)
        batches = functools.partial(sources.generated_batches, generate, self.z,
                                    self.settings.batch_size)
        return self._sample_set(role, key, batches, extractors, keep_images)

    def _primary_extractor(self):
        _, name = scoring.split_metric_key(self.settings.primary_metric)
        return [e for e in self.extractors if e.name == name]

    def _primary(self, fake) -> float:
        metric, _ = scoring.split_metric_key(self.settings.primary_metric)
        with self.timer.phase(f"metrics/{metric}"):
            return scoring.primary_value(self.settings.primary_metric, self.real, fake,
                                         self.settings.metrics)

    def primary_value(self, role: str, generator: GeneratorSource) -> float:
        return self._primary(self._generated(role, generator, self._primary_extractor()))

    def score(self, candidate: GeneratorSource, untrained: GeneratorSource,
              baseline: Optional[GeneratorSource] = None) -> tuple[dict, list]:
        """(metric values, warnings) of the candidate, with the reference generators' primary
        metric under <primary>_untrained, <primary>_ratio_to_untrained and <primary>_baseline."""
        fake = self._generated("candidate", candidate, self.extractors, keep_images=True)
        results, warnings = scoring.score(self.real, fake, self.settings.metrics, self.timer)
        primary = self.settings.primary_metric
        if primary not in results:  # not among the configured metrics: the gate still needs it
            results[primary] = self._primary(fake)
        results[f"{primary}_untrained"] = self.primary_value("untrained", untrained)
        untrained_value = results[f"{primary}_untrained"]
        results[f"{primary}_ratio_to_untrained"] = (results[primary] / untrained_value
                                                    if untrained_value else math.inf)
        if baseline is not None:
            results[f"{primary}_baseline"] = self.primary_value("baseline", baseline)
        _, name = scoring.split_metric_key(primary)
        results["num_real_images"] = self.real.features[name].statistics.count
        results["num_generated_images"] = self.settings.num_samples
        results["extractors"] = {e.name: e.describe() for e in self.extractors}
        return results, warnings
