"""A conditional generator's image quality per condition: the Fréchet distance of faces asked
with (or without) an attribute against the real faces that have (or lack) it.

A condition's distance depends on how many real faces it has (FD is biased upwards for small
sets), so each is reported next to a reference at the same sizes: the same generator's faces
as drawn without a request (real attribute rows) against as many real faces of any kind. The
ratio says what asking costs: 1 means faces on request are as close to their real group as the
generator's faces in general are to real faces. Conditions with fewer real faces than the
feature dimension are not measured (the covariance would be singular).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from components.gan_evaluator.attributes import PREFIX
from metrics import fid

REFERENCE_SEED = 97


def _moments(features: np.ndarray) -> tuple:
    return features.mean(axis=0), np.cov(features, rowvar=False)


def measured_conditions(real_labels: np.ndarray, dimensions: int) -> np.ndarray:
    """bool [attributes, 2 (absent, present)]: the conditions with more real faces than the
    embedding has dimensions, the ones condition_fd measures."""
    return (
        np.stack([(real_labels == 0).sum(axis=0), (real_labels == 1).sum(axis=0)], axis=1)
        > dimensions
    )


def condition_fd(
    real: np.ndarray,
    real_labels: np.ndarray,
    unasked: np.ndarray,
    asked: np.ndarray,
    names: Sequence[str],
) -> dict:
    """attributes/fd_present/<Name>, fd_absent/<Name> and their ratio to the reference
    (fd_present_ratio/..., fd_absent_ratio/...; NaN where the real group is too small), and
    attributes/fd_ratio_mean over the measured conditions.

    All in one embedding: `real` [N, dim], the real faces, with `real_labels` (1/0/-1 per face
    and attribute); `unasked` [M, dim], the generator's faces drawn without a request (real
    attribute rows, conditions.py); `asked` [attributes, 2 (absent, present), M', dim], the
    faces asked for each attribute absent and present (attributes.request_grid's order; the
    other attributes from real rows that agree); only the measured_conditions are read.
    """
    unasked_moments = _moments(unasked)
    measured = measured_conditions(real_labels, real.shape[1])
    rng = np.random.default_rng(REFERENCE_SEED)
    metrics, ratios = {}, []
    for k, name in enumerate(names):
        for side, column, label in (("present", 1, 1), ("absent", 0, 0)):  # request_grid's
            group = real[real_labels[:, k] == label]
            value = ratio = float("nan")
            if measured[k, column]:
                value = fid.frechet_distance(*_moments(group), *_moments(asked[k, column]))
                same_size = real[rng.choice(len(real), len(group), replace=False)]
                ratio = value / fid.frechet_distance(*_moments(same_size), *unasked_moments)
                ratios.append(ratio)
            metrics[f"{PREFIX}fd_{side}/{name}"] = value
            metrics[f"{PREFIX}fd_{side}_ratio/{name}"] = ratio
    metrics[f"{PREFIX}fd_ratio_mean"] = float(np.mean(ratios)) if ratios else float("nan")
    return metrics
