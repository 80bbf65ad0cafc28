"""One pass over an image source -> everything the metrics need, in bounded memory.

Per feature extractor: the streaming mean and covariance (FID) over every image, and a uniform
random subset of the features (KID, precision/recall, density/coverage). Optionally a uniform
random subset of the images themselves (SWD, MS-SSIM). Memory depends on the subset sizes and the
feature dimension, never on the number of images.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import numpy as np

from metrics.extractors import FeatureExtractor
from metrics.streaming import FeatureStatistics, Reservoir
from metrics.timing import PhaseTimer

RESERVOIR_SEED = 0


@dataclasses.dataclass
class FeatureSummary:
    statistics: FeatureStatistics
    subset: np.ndarray  # [min(count, subset size), dim] float64

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {**self.statistics.to_arrays(), "subset": self.subset}

    @classmethod
    def from_arrays(cls, arrays) -> FeatureSummary:
        return cls(FeatureStatistics.from_arrays(arrays), np.asarray(arrays["subset"]))


@dataclasses.dataclass
class SampleSet:
    features: dict[str, FeatureSummary]  # by extractor name
    images: np.ndarray | None = None  # uint8 [min(count, image subset size), H, W, 3]


def summarize(
    batches: Iterable[np.ndarray],
    extractors: Sequence[FeatureExtractor],
    feature_subset_size: int,
    image_subset_size: int = 0,
    timer: PhaseTimer | None = None,
    source: str = "generation",
) -> SampleSet:
    """Runs every extractor over uint8 image batches; `source` names the time spent producing them.

    All reservoirs share one seed, so the kept features and images are of the same samples.
    """
    timer = timer or PhaseTimer()
    statistics = {e.name: FeatureStatistics() for e in extractors}
    subsets = {e.name: Reservoir(feature_subset_size, RESERVOIR_SEED) for e in extractors}
    images = Reservoir(image_subset_size, RESERVOIR_SEED) if image_subset_size else None
    count = 0
    for batch in timer.timed(batches, source):
        count += len(batch)
        for extractor in extractors:
            with timer.phase("features"):
                features = extractor(batch)
            with timer.phase("statistics"):
                statistics[extractor.name].update(features)
                subsets[extractor.name].update(features)
        if images is not None:
            images.update(batch)
    if count == 0:
        raise ValueError("the image source yielded no images")
    return SampleSet(
        features={
            name: FeatureSummary(stats, subsets[name].rows) for name, stats in statistics.items()
        },
        images=images.rows if images is not None else None,
    )
