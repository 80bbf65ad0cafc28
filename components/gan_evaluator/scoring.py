"""Metric values of a generated SampleSet against the real one, under keys that name the extractor.

Feature metrics, per extractor E:   fid/E, kid/E (+ kid/E_std), precision/E, recall/E,
                                    density/E, coverage/E
Image metrics, no network:          swd/laplacian_<resolution> and swd/laplacian_mean (x 1e3),
                                    ms_ssim/generated and ms_ssim/real (mean over random pairs)
"""

from __future__ import annotations

from collections.abc import Callable

# The metric names too, for the modules that read them through this one.
from components.gan_evaluator.settings import (  # noqa: F401
    FEATURE_METRICS,
    IMAGE_METRICS,
    METRIC_SEED,
    METRICS,
    PRIMARY_METRICS,
    EvaluatorSettings,
    split_metric_key,
)
from metrics import fid, kid, msssim, prdc, swd
from metrics.sample_sets import FeatureSummary, SampleSet
from metrics.timing import PhaseTimer


def _fid(name: str, real: FeatureSummary, fake: FeatureSummary, settings) -> dict:
    return {f"fid/{name}": fid.fid_from_statistics(real.statistics, fake.statistics)}


def _kid(name: str, real: FeatureSummary, fake: FeatureSummary, settings) -> dict:
    mean, std = kid.kernel_inception_distance(
        real.subset,
        fake.subset,
        settings.eval_kid_subsets,
        settings.eval_kid_subset_size,
        METRIC_SEED,
    )
    return {f"kid/{name}": mean, f"kid/{name}_std": std}


def _prdc(name: str, real: FeatureSummary, fake: FeatureSummary, settings) -> dict:
    values = prdc.manifold_metrics(real.subset, fake.subset)
    return {f"{metric}/{name}": value for metric, value in values.items()}


def _swd(real, fake, settings) -> dict:
    distances = swd.sliced_wasserstein_distances(
        real, fake, settings.eval_swd_patches_per_image, METRIC_SEED
    )
    values = {f"swd/laplacian_{resolution}": value for resolution, value in distances.items()}
    values["swd/laplacian_mean"] = sum(distances.values()) / len(distances)
    return values


def _ms_ssim(real, fake, settings) -> dict:
    pairs, seed = settings.eval_ms_ssim_pairs, METRIC_SEED
    return {
        "ms_ssim/generated": msssim.mean_pair_ms_ssim(fake, pairs, seed),
        "ms_ssim/real": msssim.mean_pair_ms_ssim(real, pairs, seed),
    }


_FEATURE_FUNCTIONS: dict[str, Callable] = {"fid": _fid, "kid": _kid, "prdc": _prdc}
_IMAGE_FUNCTIONS: dict[str, Callable] = {"swd": _swd, "ms_ssim": _ms_ssim}
# Fewest samples per set each metric is defined for (the subset sizes, for all but FID).
MIN_SAMPLES = {"fid": 2, "kid": 2, "prdc": prdc.DENSITY_COVERAGE_K + 1, "swd": 1, "ms_ssim": 2}


def _sizes(metric: str, real: FeatureSummary, fake: FeatureSummary) -> tuple[int, int]:
    if metric == "fid":
        return real.statistics.count, fake.statistics.count
    return len(real.subset), len(fake.subset)


def _too_few(metric: str, key: str, real_count: int, fake_count: int) -> str:
    return (
        f"{key} not computed: it needs {MIN_SAMPLES[metric]} samples per set, "
        f"got {real_count} real and {fake_count} generated"
    )


def feature_metric(
    metric: str, name: str, real: SampleSet, fake: SampleSet, settings: EvaluatorSettings
) -> tuple[dict, list]:
    """One feature metric family for extractor `name`: (values, warnings)."""
    real_features, fake_features = real.features[name], fake.features[name]
    real_count, fake_count = _sizes(metric, real_features, fake_features)
    if min(real_count, fake_count) < MIN_SAMPLES[metric]:
        return {}, [_too_few(metric, f"{metric}/{name}", real_count, fake_count)]
    warnings = []
    if metric == "fid":
        dim = real_features.statistics.dim
        warnings = [
            w
            for w in (
                fid.too_few_samples(real_count, dim, f"fid/{name}, real"),
                fid.too_few_samples(fake_count, dim, f"fid/{name}, generated"),
            )
            if w
        ]
    return _FEATURE_FUNCTIONS[metric](name, real_features, fake_features, settings), warnings


def score(
    real: SampleSet, fake: SampleSet, settings: EvaluatorSettings, timer: PhaseTimer | None = None
) -> tuple[dict, list]:
    """Every configured metric for every extractor in `fake`: (values, warnings).

    The time of each metric family goes to `timer` as "metrics/<family>"."""
    timer = timer or PhaseTimer()
    values, warnings = {}, []
    for name in fake.features:
        for metric in (m for m in settings.eval_metrics if m in _FEATURE_FUNCTIONS):
            with timer.phase(f"metrics/{metric}"):
                more, notes = feature_metric(metric, name, real, fake, settings)
            values.update(more)
            warnings.extend(notes)
    for metric in (m for m in settings.eval_metrics if m in _IMAGE_FUNCTIONS):
        if min(len(real.images), len(fake.images)) < MIN_SAMPLES[metric]:
            warnings.append(_too_few(metric, metric, len(real.images), len(fake.images)))
            continue
        with timer.phase(f"metrics/{metric}"):
            values.update(_IMAGE_FUNCTIONS[metric](real.images, fake.images, settings))
    return values, warnings


def primary_value(
    primary: str, real: SampleSet, fake: SampleSet, settings: EvaluatorSettings
) -> float:
    """The primary metric (e.g. fid/random_embedding) alone, for the reference generators."""
    metric, name = split_metric_key(primary)
    values, warnings = feature_metric(metric, name, real, fake, settings)
    if primary not in values:
        raise ValueError(f"the primary metric {primary} cannot be computed: {'; '.join(warnings)}")
    return values[primary]
