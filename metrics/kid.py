"""Kernel Inception Distance: the unbiased MMD^2 with a cubic polynomial kernel (Bińkowski et al.
2018), averaged over random subsets as StyleGAN2-ADA's metrics/kernel_inception_distance.py does.

KID is unbiased, so unlike FID it can be compared across sample counts.
"""

from __future__ import annotations

import numpy as np


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """k(x, y) = (x . y / d + 1)^3."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def subset_indices(
    population: int, subset_size: int, num_subsets: int, rng: np.random.Generator
) -> np.ndarray:
    """[num_subsets, subset_size] row indices, each row drawn without replacement."""
    return np.stack(
        [rng.choice(population, subset_size, replace=False) for _ in range(num_subsets)]
    )


def _subset_sums(kernel: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """sum(kernel[r][:, c]) for each subset pair (r, c), through 0/1 indicator matrices.

    One matrix product for all subsets is much faster than gathering each submatrix.
    """
    row_indicator = _indicator(rows, kernel.shape[0])
    column_indicator = _indicator(columns, kernel.shape[1])
    return np.einsum("ns,ns->s", row_indicator, kernel @ column_indicator)


def _indicator(indices: np.ndarray, population: int) -> np.ndarray:
    indicator = np.zeros((population, len(indices)))
    indicator[indices.T, np.arange(len(indices))] = 1.0
    return indicator


def kernel_inception_distance(
    real: np.ndarray,
    fake: np.ndarray,
    num_subsets: int = 100,
    max_subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Mean and standard deviation over subsets of the unbiased MMD^2 estimate.

    Per subset of m fake rows x and m real rows y (StyleGAN2-ADA's estimator):
      t = (sum_{i!=j} k(x_i, x_j) + sum_{i!=j} k(y_i, y_j)) / (m - 1) - 2 sum_{i,j} k(x_i, y_j) / m
      KID = t / m
    """
    real = np.asarray(real, dtype=np.float64)
    fake = np.asarray(fake, dtype=np.float64)
    m = min(len(real), len(fake), max_subset_size)
    if m < 2:
        raise ValueError(f"KID needs at least 2 samples per set, got {len(real)} and {len(fake)}")
    rng = np.random.default_rng(seed)
    fake_rows = subset_indices(len(fake), m, num_subsets, rng)
    real_rows = subset_indices(len(real), m, num_subsets, rng)
    k_xx, k_yy = polynomial_kernel(fake, fake), polynomial_kernel(real, real)
    within = (
        _subset_sums(k_xx, fake_rows, fake_rows)
        - np.diagonal(k_xx)[fake_rows].sum(axis=1)
        + _subset_sums(k_yy, real_rows, real_rows)
        - np.diagonal(k_yy)[real_rows].sum(axis=1)
    )
    between = _subset_sums(polynomial_kernel(fake, real), fake_rows, real_rows)
    values = (within / (m - 1) - 2.0 * between / m) / m
    return float(values.mean()), float(values.std())
