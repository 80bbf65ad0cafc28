"""Fréchet distance: closed forms, an independent eigendecomposition, singular covariances."""

import numpy as np
import pytest

from metrics.fid import fid_from_statistics, frechet_distance, too_few_samples
from metrics.streaming import FeatureStatistics


def random_spd(rng, dim):
    a = rng.standard_normal((dim, dim))
    return a @ a.T / dim + 0.1 * np.eye(dim)


def frechet_distance_by_eigh(mu1, sigma1, mu2, sigma2):
    """Independent reference: Tr((S1 S2)^1/2) = Tr((A S2 A)^1/2) with A = S1^1/2, all via eigh."""
    w, v = np.linalg.eigh(sigma1)
    root1 = v @ np.diag(np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = np.clip(np.linalg.eigvalsh(root1 @ sigma2 @ root1), 0, None)
    traces = np.trace(sigma1) + np.trace(sigma2) - 2 * np.sum(np.sqrt(inner))
    return np.sum((mu1 - mu2) ** 2) + traces


def test_identical_statistics_give_zero():
    rng = np.random.default_rng(0)
    mu, sigma = rng.standard_normal(8), random_spd(rng, 8)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-6)


def test_shifted_standard_normals_give_the_squared_shift():
    # N(0, I) vs N(m, I): the covariance terms cancel, leaving |m|^2.
    m = np.random.default_rng(1).standard_normal(32)
    distance = frechet_distance(np.zeros(32), np.eye(32), m, np.eye(32))
    assert distance == pytest.approx(m @ m, rel=1e-10)


def test_one_dimensional_closed_form():
    # For 1-D Gaussians: (m1 - m2)^2 + (s1 - s2)^2 with s the standard deviations.
    assert frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(4 + 1, rel=1e-10)


def test_diagonal_closed_form():
    rng = np.random.default_rng(1)
    mu1, mu2 = rng.standard_normal(6), rng.standard_normal(6)
    std1, std2 = rng.uniform(0.5, 2, 6), rng.uniform(0.5, 2, 6)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((std1 - std2) ** 2)
    distance = frechet_distance(mu1, np.diag(std1**2), mu2, np.diag(std2**2))
    assert distance == pytest.approx(expected, rel=1e-9)


def test_matches_eigendecomposition_and_is_symmetric():
    rng = np.random.default_rng(2)
    mu1, mu2 = rng.standard_normal(10), rng.standard_normal(10)
    sigma1, sigma2 = random_spd(rng, 10), random_spd(rng, 10)
    forward = frechet_distance(mu1, sigma1, mu2, sigma2)
    assert forward == pytest.approx(frechet_distance_by_eigh(mu1, sigma1, mu2, sigma2), rel=1e-8)
    assert frechet_distance(mu2, sigma2, mu1, sigma1) == pytest.approx(forward, rel=1e-8)


def test_non_negative():
    rng = np.random.default_rng(3)
    for _ in range(5):
        mu1, mu2 = rng.standard_normal(5), rng.standard_normal(5)
        assert frechet_distance(mu1, random_spd(rng, 5), mu2, random_spd(rng, 5)) >= 0.0


@pytest.mark.parametrize("seed", range(4))
def test_fewer_samples_than_dimensions(seed):
    # Rank-7 covariances in 192 dimensions: scipy's plain sqrtm returns finite nonsense here,
    # so this exercises the offset retry.
    rng = np.random.default_rng(seed)
    a, b = np.abs(rng.standard_normal((2, 8, 192)))
    args = (a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    assert frechet_distance(*args) == pytest.approx(frechet_distance_by_eigh(*args), rel=1e-4)


def test_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def test_fid_from_streamed_statistics_matches_the_whole_set():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((200, 6)), rng.standard_normal((150, 6)) * 1.5 + 0.2
    streamed = fid_from_statistics(
        FeatureStatistics().update(a[:90]).update(a[90:]), FeatureStatistics().update(b)
    )
    direct = frechet_distance_by_eigh(
        a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)
    )
    assert streamed == pytest.approx(direct, rel=1e-8)


def test_warns_only_below_the_feature_dimension():
    assert too_few_samples(512, 512, "fid/x") is None
    warning = too_few_samples(64, 512, "fid/x, generated")
    assert "64 samples < 512" in warning and warning.startswith("fid/x, generated")
