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

from typing import Callable, Sequence

import numpy as np

from components.gan_evaluator import fid
from components.gan_evaluator.attributes import PREFIX, request_grid

REFERENCE_SEED = 97


def _moments(features: np.ndarray) -> tuple:
    return features.mean(axis=0), np.cov(features, rowvar=False)


def condition_fd(embed: Callable[[np.ndarray], np.ndarray],
                 generate: Callable[[np.ndarray], np.ndarray], inputs: np.ndarray, z_dim: int,
                 table: np.ndarray, real_images: np.ndarray, real_labels: np.ndarray,
                 names: Sequence[str], batch_size: int) -> dict:
    """attributes/fd_present/<Name>, fd_absent/<Name> and their ratio to the reference
    (fd_present_ratio/..., fd_absent_ratio/...; NaN where the real group is too small), and
    attributes/fd_ratio_mean over the measured conditions.

    `embed`: uint8 images -> features [N, dim]; `inputs`: the generator's inputs unasked (z and
    real attribute rows of `table`, conditions.py); each condition asks the same z, with the
    other attributes from real rows that agree (attributes.request_grid); `real_labels`:
    1/0/-1 per real image and attribute.
    """
    def features_of(asked: np.ndarray) -> np.ndarray:
        return np.concatenate([embed(generate(asked[i:i + batch_size]))
                               for i in range(0, len(asked), batch_size)])

    real = np.concatenate([embed(real_images[i:i + batch_size])
                           for i in range(0, len(real_images), batch_size)])
    unasked = _moments(features_of(inputs))
    requests = request_grid(inputs[:, :z_dim], table).reshape(len(names), 2, len(inputs), -1)
    rng = np.random.default_rng(REFERENCE_SEED)
    metrics, ratios = {}, []
    for k, name in enumerate(names):
        for side, column, label in (("present", 1, 1), ("absent", 0, 0)):  # request_grid's
            group = real[real_labels[:, k] == label]
            value = ratio = float("nan")
            if len(group) > real.shape[1]:
                asked = features_of(requests[k, column])
                value = fid.frechet_distance(*_moments(group), *_moments(asked))
                same_size = real[rng.choice(len(real), len(group), replace=False)]
                ratio = value / fid.frechet_distance(*_moments(same_size), *unasked)
                ratios.append(ratio)
            metrics[f"{PREFIX}fd_{side}/{name}"] = value
            metrics[f"{PREFIX}fd_{side}_ratio/{name}"] = ratio
    metrics[f"{PREFIX}fd_ratio_mean"] = float(np.mean(ratios)) if ratios else float("nan")
    return metrics
