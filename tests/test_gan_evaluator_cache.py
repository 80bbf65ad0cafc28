"""The statistics cache: content fingerprints, .npz entries, and computing only what is missing."""

import numpy as np
import pytest

from components.gan_evaluator.statistics_cache import StatisticsCache, cached_sample_set
from metrics import storage
from metrics.sample_sets import summarize
from metrics.timing import PhaseTimer


class CountingExtractor:
    """Mean colour per image as features; counts the images it has seen."""

    dim = 3

    def __init__(self, name):
        self.name = name
        self.images_seen = 0

    def fingerprint(self):
        return f"counting-{self.name}"

    def __call__(self, images):
        self.images_seen += len(images)
        return images.reshape(len(images), -1, 3).mean(axis=1).astype(np.float64)


def image_batches(seed=0, count=30, batch=8):
    images = np.random.default_rng(seed).integers(0, 256, (count, 8, 8, 3), dtype=np.uint8)
    return lambda: (images[start : start + batch] for start in range(0, count, batch))


def test_fingerprints_follow_content_not_location(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder / "sub").mkdir(parents=True)
        (tmp_path / folder / "sub" / "x.bin").write_bytes(b"same bytes")
    a = storage.fingerprint_directory(str(tmp_path / "a"))
    assert a == storage.fingerprint_directory(str(tmp_path / "b"))
    (tmp_path / "b" / "sub" / "x.bin").write_bytes(b"same bytez")
    assert a != storage.fingerprint_directory(str(tmp_path / "b"))
    float64, float32 = np.zeros(3), np.zeros(3, np.float32)
    assert storage.fingerprint_arrays(float64) != storage.fingerprint_arrays(float32)


def test_entries_round_trip_and_a_disabled_cache_stores_nothing(tmp_path):
    cache = StatisticsCache(str(tmp_path / "cache"))
    assert cache.load({"k": 1}) is None
    cache.save({"k": 1}, {"x": np.arange(4)})
    np.testing.assert_array_equal(cache.load({"k": 1})["x"], np.arange(4))
    assert cache.load({"k": 2}) is None
    disabled = StatisticsCache("")
    disabled.save({"k": 1}, {"x": np.arange(4)})
    assert disabled.load({"k": 1}) is None


def test_second_pass_is_served_from_the_cache(tmp_path):
    cache = StatisticsCache(str(tmp_path))
    first_extractor = CountingExtractor("mean")
    first, hit = cached_sample_set(
        cache,
        {"source": "s"},
        image_batches(),
        [first_extractor],
        feature_subset_size=10,
        image_subset_size=5,
    )
    assert not hit and first_extractor.images_seen == 30
    again_extractor = CountingExtractor("mean")
    again, hit = cached_sample_set(
        cache,
        {"source": "s"},
        image_batches(),
        [again_extractor],
        feature_subset_size=10,
        image_subset_size=5,
    )
    assert hit and again_extractor.images_seen == 0
    np.testing.assert_array_equal(again.images, first.images)
    np.testing.assert_array_equal(again.features["mean"].subset, first.features["mean"].subset)
    assert again.features["mean"].statistics.count == 30


def test_only_missing_extractors_are_computed(tmp_path):
    cache = StatisticsCache(str(tmp_path))
    cached_sample_set(cache, {"source": "s"}, image_batches(), [CountingExtractor("a")], 10)
    a, b = CountingExtractor("a"), CountingExtractor("b")
    result, hit = cached_sample_set(cache, {"source": "s"}, image_batches(), [a, b], 10)
    assert not hit and a.images_seen == 0 and b.images_seen == 30
    assert set(result.features) == {"a", "b"}
    # A changed source or subset size is a different entry.
    other = CountingExtractor("a")
    cached_sample_set(cache, {"source": "t"}, image_batches(1), [other], 10)
    cached_sample_set(cache, {"source": "s"}, image_batches(), [other], 11)
    assert other.images_seen == 60


def test_generated_images_are_kept_out_of_the_cache(tmp_path):
    cache = StatisticsCache(str(tmp_path))
    extractor = CountingExtractor("a")
    for _ in range(2):
        result, _ = cached_sample_set(
            cache,
            {"source": "g"},
            image_batches(),
            [extractor],
            10,
            image_subset_size=4,
            cache_images=False,
        )
        assert len(result.images) == 4
    assert extractor.images_seen == 30  # the features were reused, the images recomputed


def test_summary_is_bounded_by_the_subset_sizes_and_timed():
    timer = PhaseTimer()
    summary = summarize(image_batches(count=100)(), [CountingExtractor("a")], 16, 8, timer)
    assert summary.features["a"].subset.shape == (16, 3) and summary.images.shape == (8, 8, 8, 3)
    assert summary.features["a"].statistics.count == 100
    assert set(timer.seconds) == {"generation", "features", "statistics"}
    with pytest.raises(ValueError, match="no images"):
        summarize(iter([]), [CountingExtractor("a")], 16)
