"""k-nearest-neighbour manifold metrics on features.

Precision and recall (Kynkäänniemi et al. 2019, k = 3): the share of fake samples inside the real
manifold, and of real samples inside the fake one, where a manifold is the union of balls
reaching each sample's k-th nearest neighbour. Density and coverage (Naeem et al. 2020, k = 5)
fix precision's sensitivity to real outliers: density counts how many real balls hold each fake
sample, coverage the share of real balls holding at least one fake sample.
"""

from __future__ import annotations

import numpy as np

PRECISION_RECALL_K = 3
DENSITY_COVERAGE_K = 5


def squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[len(a), len(b)] squared Euclidean distances, in float64."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(squared, 0.0)


def kth_neighbour_radii(within: np.ndarray, k: int) -> np.ndarray:
    """Squared distance from each sample to its k-th nearest other sample.

    `within` holds a set's distances to itself; the zero to itself is the 0-th smallest.
    """
    if within.shape[0] <= k:
        raise ValueError(
            f"k = {k} nearest neighbours need more than {k} samples, got {within.shape[0]}"
        )
    within = within.copy()
    np.fill_diagonal(within, 0.0)
    return np.partition(within, k, axis=1)[:, k]


def manifold_metrics(
    real: np.ndarray,
    fake: np.ndarray,
    pr_k: int = PRECISION_RECALL_K,
    dc_k: int = DENSITY_COVERAGE_K,
) -> dict:
    """precision, recall (k = pr_k) and density, coverage (k = dc_k) of `fake` against `real`.

    The comparisons follow each paper's reference code: <= for precision and recall
    (Kynkäänniemi et al., StyleGAN2-ADA), < for density and coverage (Naeem et al.).
    """
    real_real = squared_distances(real, real)
    fake_fake = squared_distances(fake, fake)
    real_fake = squared_distances(real, fake)  # [n_real, n_fake]
    real_radii_pr = kth_neighbour_radii(real_real, pr_k)[:, None]
    fake_radii_pr = kth_neighbour_radii(fake_fake, pr_k)[None, :]
    real_radii_dc = kth_neighbour_radii(real_real, dc_k)
    return {
        "precision": float((real_fake <= real_radii_pr).any(axis=0).mean()),
        "recall": float((real_fake <= fake_radii_pr).any(axis=1).mean()),
        "density": float((real_fake < real_radii_dc[:, None]).sum(axis=0).mean() / dc_k),
        "coverage": float((real_fake.min(axis=1) < real_radii_dc).mean()),
    }
