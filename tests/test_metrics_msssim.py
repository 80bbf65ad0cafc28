"""MS-SSIM with scales and filter fitted to 64x64 images, and the pair sampling."""

import numpy as np
import pytest
import tensorflow as tf
from gan_evaluator_testing import blob_pixels

from metrics import msssim


def test_scales_fit_the_image_size():
    assert msssim.fitted_scales(64) == 4  # 64, 32, 16, 8 >= 7
    assert msssim.fitted_scales(64, filter_size=11) == 3
    assert msssim.fitted_scales(161, filter_size=11) == 5  # Wang et al.'s setting needs 161 px
    assert msssim.fitted_scales(160, filter_size=11) == 4
    with pytest.raises(ValueError):
        msssim.fitted_scales(5)


def test_power_factors_are_wangs_renormalised():
    factors = msssim.power_factors(4)
    assert sum(factors) == pytest.approx(1.0)
    assert factors[1] / factors[0] == pytest.approx(0.2856 / 0.0448)


def test_default_five_scales_fail_on_64px_but_fitted_ones_work():
    images = blob_pixels(np.random.default_rng(0), 4)
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.image.ssim_multiscale(images.astype(np.float32), images[::-1].astype(np.float32), 255.0)
    scores = msssim.ms_ssim(images, images[::-1])
    assert scores.shape == (4,) and np.all(np.isfinite(scores))


def test_identical_pairs_score_one_and_similarity_falls_with_noise():
    rng = np.random.default_rng(1)
    images = blob_pixels(rng, 6)
    np.testing.assert_allclose(msssim.ms_ssim(images, images), 1.0, atol=1e-6)
    slightly = np.clip(images + rng.normal(0, 5, images.shape), 0, 255).astype(np.uint8)
    heavily = np.clip(images + rng.normal(0, 60, images.shape), 0, 255).astype(np.uint8)
    assert np.all(msssim.ms_ssim(images, slightly) > msssim.ms_ssim(images, heavily))


def test_random_pairs_are_distinct_and_seeded():
    first, second = msssim.random_pairs(5, 1000, np.random.default_rng(2))
    assert np.all(first != second) and set(first) == set(second) == set(range(5))
    again = msssim.random_pairs(5, 1000, np.random.default_rng(2))
    np.testing.assert_array_equal(first, again[0])


def test_a_collapsed_set_scores_higher_than_a_diverse_one():
    rng = np.random.default_rng(3)
    diverse = blob_pixels(rng, 20)
    collapsed = np.repeat(diverse[:1], 20, axis=0)
    assert msssim.mean_pair_ms_ssim(collapsed, 30) == pytest.approx(1.0, abs=1e-6)
    assert msssim.mean_pair_ms_ssim(diverse, 30) < 0.9
