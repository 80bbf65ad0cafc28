"""SWD on Laplacian pyramid patches: ProGAN's filters, the pyramid, patches, and the distance."""

import numpy as np
import pytest
from gan_evaluator_testing import blob_pixels
from scipy import ndimage

from metrics import swd

# ProGAN's gaussian_filter, applied in 2-D as its pyr_down / pyr_up do.
PROGAN_FILTER = (
    np.float32(
        [
            [1, 4, 6, 4, 1],
            [4, 16, 24, 16, 4],
            [6, 24, 36, 24, 6],
            [4, 16, 24, 16, 4],
            [1, 4, 6, 4, 1],
        ]
    )
    / 256.0
)


def progan_convolve(images, gain=1.0):
    return ndimage.convolve(images, PROGAN_FILTER[None, :, :, None] * gain, mode="mirror")


@pytest.fixture(scope="module")
def images():
    return blob_pixels(np.random.default_rng(0), 24)


def test_pyramid_steps_match_progan_2d_filters(images):
    level = np.float32(images)
    np.testing.assert_allclose(
        swd.pyramid_down(level), progan_convolve(level)[:, ::2, ::2], atol=1e-3
    )
    small = swd.pyramid_down(level)
    spread = np.zeros_like(level)
    spread[:, ::2, ::2] = small
    np.testing.assert_allclose(swd.pyramid_up(small), progan_convolve(spread, gain=4.0), atol=1e-3)


def test_laplacian_pyramid_reconstructs_the_image(images):
    pyramid = swd.laplacian_pyramid(images, 3)
    assert [level.shape[1] for level in pyramid] == [64, 32, 16]
    rebuilt = pyramid[2]
    for band in (pyramid[1], pyramid[0]):
        rebuilt = band + swd.pyramid_up(rebuilt)
    np.testing.assert_allclose(rebuilt, images.astype(np.float32), atol=1e-3)


def test_resolutions_stop_at_16():
    assert swd.resolutions(64) == [64, 32, 16]
    assert swd.resolutions(128) == [128, 64, 32, 16]


def test_patches_are_whole_7x7_windows_spread_over_the_image():
    height, width = 12, 10
    # Each pixel holds its own (row, column): a patch must be a contiguous window inside the image.
    rows, columns = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    level = np.stack([rows, columns, rows * 0], axis=-1)[None].astype(np.float32).repeat(2, axis=0)
    positions = swd.patch_positions(2, height, width, 50, np.random.default_rng(1))
    patches = swd.cut_patches(level, positions)
    assert patches.shape == (100, 7, 7, 3)
    _, top, left = positions
    window = np.arange(7)
    np.testing.assert_array_equal(
        patches[..., 0], np.broadcast_to(top[:, None, None] + window[None, :, None], (100, 7, 7))
    )
    np.testing.assert_array_equal(
        patches[..., 1], np.broadcast_to(left[:, None, None] + window[None, None, :], (100, 7, 7))
    )
    assert set(top) == set(range(height - 6)) and set(left) == set(range(width - 6))


def test_normalized_descriptors_have_unit_channel_statistics():
    patches = np.random.default_rng(2).normal(5.0, 3.0, (200, 7, 7, 3)).astype(np.float32)
    flat = swd.normalize_descriptors(patches)
    assert flat.shape == (200, 147)
    per_channel = flat.reshape(200, 7, 7, 3)
    np.testing.assert_allclose(per_channel.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(per_channel.std(axis=(0, 1, 2)), 1, atol=1e-5)


def test_sliced_wasserstein_of_a_set_with_itself_is_zero():
    a = np.random.default_rng(3).standard_normal((300, 20)).astype(np.float32)
    shuffled = a[np.random.default_rng(4).permutation(300)]
    assert swd.sliced_wasserstein(a, shuffled, np.random.default_rng(5)) < 1e-6
    assert swd.sliced_wasserstein(a, a + 1.0, np.random.default_rng(5)) > 0.1
    with pytest.raises(ValueError):
        swd.sliced_wasserstein(a, a[:10], np.random.default_rng(5))


def test_swd_of_a_set_with_itself_is_zero_and_grows_with_noise(images):
    rng = np.random.default_rng(6)

    def with_noise(scale):
        noisy = images.astype(np.float32) + rng.normal(0, scale, images.shape)
        return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)

    itself = swd.sliced_wasserstein_distances(images, images.copy(), 32, seed=0)
    assert itself == {64: 0.0, 32: 0.0, 16: 0.0}
    # Each set is normalised on its own, so at 64 px any white noise looks alike once it
    # dominates the finest band; the coarser bands keep growing with the noise.
    distances = [
        swd.sliced_wasserstein_distances(images, with_noise(scale), 32, seed=0)
        for scale in (5.0, 20.0, 60.0)
    ]
    for resolution in (32, 16):
        assert 0 < distances[0][resolution] < distances[1][resolution] < distances[2][resolution]
    assert distances[0][64] > 0
