"""Real-vs-real calibration: what each feature metric gives when the "generated" set is other
real images.

Precision, recall, density, coverage and KID depend on the sample count and on the data: even
two halves of the same real images do not reach precision or recall 1, and how far below 1 they
stay differs between data sets and extractors. A fixed limit ("precision >= 0.5") therefore means
different things on different data; a fraction of the real-vs-real value does not. The real set
keeps 2 x `feature_subset_size` features; after a seeded shuffle the first half is the reference
every candidate is compared with, and that half against the second half is the calibration, so
both comparisons use the same number of samples per side. It depends only on the real images, the
extractor and the sizes, so it is computed once per data set and cached with the real statistics.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from components.gan_evaluator import scoring
from components.gan_evaluator.results import calibration_key
from components.gan_evaluator.settings import METRIC_SEED, EvaluatorSettings
from metrics import prdc
from metrics.sample_sets import RESERVOIR_SEED, FeatureSummary, SampleSet
from metrics.streaming import FeatureStatistics

SPLIT_SEED = 0


@dataclasses.dataclass(frozen=True)
class RealSplit:
    """The real features of one extractor, split for the candidates and the calibration."""

    reference: np.ndarray  # what candidates are compared with: min(kept, subset size) rows
    half_a: np.ndarray  # the calibration's two sides: disjoint, `per_side` rows each;
    half_b: np.ndarray  # half_a is the start of `reference`

    @property
    def per_side(self) -> int:
        return len(self.half_a)


def split(features: np.ndarray, subset_size: int) -> RealSplit:
    """Disjoint halves of the real reservoir, after a seeded shuffle.

    The reservoir holds rows in the order the files were read until it overflows (and keeps
    that order in the slots it never replaces), so halves taken by position could differ
    systematically, e.g. when file names follow some attribute. Shuffled, both halves are
    uniform random subsets. With fewer than 2 x `subset_size` rows each side gets half of them.
    """
    shuffled = features[np.random.default_rng(SPLIT_SEED).permutation(len(features))]
    per_side = min(subset_size, len(features) // 2)
    return RealSplit(
        reference=shuffled[:subset_size],
        half_a=shuffled[:per_side],
        half_b=shuffled[per_side : 2 * per_side],
    )


def _as_sample_set(name: str, features: np.ndarray) -> SampleSet:
    return SampleSet({name: FeatureSummary(FeatureStatistics().update(features), features)})


def real_vs_real(name: str, real_split: RealSplit, settings: EvaluatorSettings) -> dict:
    """Every feature metric (fid, kid, precision, recall, density, coverage) of half A, as the
    reference, against half B, under calibration keys. A metric the halves are too small for is
    left out (the gate then says its calibration was not computed)."""
    a = _as_sample_set(name, real_split.half_a)
    b = _as_sample_set(name, real_split.half_b)
    values = {}
    for metric in scoring.FEATURE_METRICS:
        try:
            more, _ = scoring.feature_metric(metric, name, a, b, settings)
        except ValueError:  # FID's square root on far fewer samples than dimensions
            continue
        values.update({calibration_key(key): value for key, value in more.items()})
    return values


def cache_key(
    real_source_key: dict, extractor_fingerprint: str, subset_size: int, settings: EvaluatorSettings
) -> dict:
    """Everything the calibration's values depend on: the real images (their source's content
    fingerprint), the extractor, the per-side size (which sets the reservoir's, 2 x), the seeds,
    and the metrics' own parameters."""
    return {
        "kind": "real_vs_real",
        "source": real_source_key,
        "extractor": extractor_fingerprint,
        "feature_subset_size": subset_size,
        "reservoir_seed": RESERVOIR_SEED,
        "split_seed": SPLIT_SEED,
        "kid": [settings.eval_kid_subsets, settings.eval_kid_subset_size, METRIC_SEED],
        "prdc_k": [prdc.PRECISION_RECALL_K, prdc.DENSITY_COVERAGE_K],
    }


def to_arrays(values: dict, per_side: int) -> dict[str, np.ndarray]:
    """For StatisticsCache: metric keys hold '/', which an .npz entry name should not."""
    names = sorted(values)
    return {
        "names": np.asarray(names, dtype=str),
        "values": np.asarray([values[name] for name in names], dtype=np.float64),
        "per_side": np.int64(per_side),
    }


def from_arrays(arrays: dict[str, np.ndarray]) -> tuple[dict, int]:
    """The inverse of `to_arrays`: (values, per-side count)."""
    values = {str(name): float(value) for name, value in zip(arrays["names"], arrays["values"])}
    return values, int(arrays["per_side"])
