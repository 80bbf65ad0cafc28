"""KID against a direct port of StyleGAN2-ADA's loop, on small random sets."""

import numpy as np
import pytest

from metrics.kid import kernel_inception_distance, polynomial_kernel, subset_indices


def kid_by_loop(real, fake, num_subsets, max_subset_size, seed):
    """StyleGAN2-ADA's compute_kid, subset by subset, with the same subset draws."""
    n = real.shape[1]
    m = min(len(real), len(fake), max_subset_size)
    rng = np.random.default_rng(seed)
    fake_rows = subset_indices(len(fake), m, num_subsets, rng)
    real_rows = subset_indices(len(real), m, num_subsets, rng)
    values = []
    for x_rows, y_rows in zip(fake_rows, real_rows):
        x, y = fake[x_rows], real[y_rows]
        a = (x @ x.T / n + 1) ** 3 + (y @ y.T / n + 1) ** 3
        b = (x @ y.T / n + 1) ** 3
        values.append(((a.sum() - np.diag(a).sum()) / (m - 1) - b.sum() * 2 / m) / m)
    return np.mean(values), np.std(values)


@pytest.mark.parametrize("sizes", [(60, 80, 50), (80, 60, 100), (40, 40, 40)])
def test_matches_the_reference_loop(sizes):
    n_real, n_fake, subset = sizes
    rng = np.random.default_rng(0)
    real = rng.standard_normal((n_real, 12))
    fake = rng.standard_normal((n_fake, 12)) * 1.2 + 0.1
    mean, std = kernel_inception_distance(real, fake, num_subsets=7, max_subset_size=subset, seed=3)
    expected_mean, expected_std = kid_by_loop(real, fake, 7, subset, 3)
    assert mean == pytest.approx(expected_mean, rel=1e-9)
    assert std == pytest.approx(expected_std, rel=1e-9)


def test_is_unbiased_near_zero_for_one_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(1)
    real, fake = rng.standard_normal((2, 400, 8))
    same, _ = kernel_inception_distance(real, fake, num_subsets=20, max_subset_size=200)
    shifted, _ = kernel_inception_distance(real, fake + 0.5, num_subsets=20, max_subset_size=200)
    assert abs(same) < 0.02 < shifted


def test_polynomial_kernel_is_cubic():
    x, y = np.array([[1.0, 2.0]]), np.array([[3.0, -1.0]])
    # x . y = 1, d = 2: (1 / 2 + 1)^3
    assert polynomial_kernel(x, y)[0, 0] == pytest.approx(1.5**3)


def test_needs_two_samples():
    with pytest.raises(ValueError, match="at least 2"):
        kernel_inception_distance(np.ones((1, 3)), np.ones((5, 3)))
