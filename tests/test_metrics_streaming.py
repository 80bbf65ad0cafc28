"""Streaming mean and covariance in float64, and the seeded reservoir subset."""

import numpy as np
import pytest

from metrics.streaming import FeatureStatistics, Reservoir


def test_streaming_statistics_match_numpy_on_the_whole_set():
    rng = np.random.default_rng(5)
    # A large common offset would ruin naive sum-of-squares accumulation.
    features = rng.standard_normal((103, 7)) * rng.uniform(0.1, 3, 7) + 50.0
    stats = FeatureStatistics()
    start = 0
    for size in (1, 10, 0, 33, 2, 57):
        stats.update(features[start : start + size])
        start += size
    assert stats.count == 103
    assert stats.mean.dtype == np.float64 and stats.covariance.dtype == np.float64
    np.testing.assert_allclose(stats.mean, features.mean(axis=0), rtol=0, atol=1e-10)
    np.testing.assert_allclose(stats.covariance, np.cov(features, rowvar=False), rtol=0, atol=1e-10)


def test_float32_batches_accumulate_in_float64():
    rng = np.random.default_rng(6)
    features = (rng.standard_normal((5000, 3)) + 1000.0).astype(np.float32)
    stats = FeatureStatistics()
    for batch in np.split(features, 50):
        stats.update(batch)
    exact = np.cov(features.astype(np.float64), rowvar=False)
    np.testing.assert_allclose(stats.covariance, exact, rtol=1e-9)


def test_arrays_round_trip_and_keep_accumulating():
    rng = np.random.default_rng(6)
    stats = FeatureStatistics().update(rng.standard_normal((20, 4)))
    loaded = FeatureStatistics.from_arrays(stats.to_arrays())
    assert loaded.count == 20 and loaded.dim == 4
    np.testing.assert_array_equal(loaded.covariance, stats.covariance)
    more = rng.standard_normal((5, 4))
    np.testing.assert_allclose(
        loaded.update(more).covariance, stats.update(more).covariance, atol=1e-12
    )


def test_statistics_need_enough_samples():
    stats = FeatureStatistics()
    with pytest.raises(ValueError):
        _ = stats.mean
    stats.update(np.ones((1, 3)))
    with pytest.raises(ValueError):
        _ = stats.covariance
    with pytest.raises(ValueError):
        stats.update(np.ones((2, 4)))


def feed(reservoir, rows, batch):
    for start in range(0, len(rows), batch):
        reservoir.update(rows[start : start + batch])
    return reservoir


def test_reservoir_keeps_everything_below_capacity_in_order():
    rows = np.arange(30).reshape(10, 3)
    np.testing.assert_array_equal(feed(Reservoir(16, seed=0), rows, 4).rows, rows)


def test_reservoir_is_seeded_and_independent_of_batching():
    rows = np.arange(1000)[:, None]
    first = feed(Reservoir(50, seed=3), rows, 7).rows
    np.testing.assert_array_equal(first, feed(Reservoir(50, seed=3), rows, 7).rows)
    np.testing.assert_array_equal(first, feed(Reservoir(50, seed=3), rows, 1000).rows)
    assert len(first) == 50 and len(np.unique(first)) == 50
    assert not np.array_equal(first, feed(Reservoir(50, seed=4), rows, 7).rows)


def test_reservoir_subset_is_uniform():
    # Each of 100 rows is kept with probability 10/100: over 2000 seeds, about 200 times each.
    counts = np.zeros(100)
    for seed in range(2000):
        counts[feed(Reservoir(10, seed), np.arange(100)[:, None], 16).rows[:, 0]] += 1
    assert counts.sum() == 20000
    assert counts.min() > 150 and counts.max() < 250  # ~5 standard deviations
