"""Sliced Wasserstein distance on Laplacian pyramid patches (Karras et al. 2018, ProGAN).

Each image is split into a Laplacian pyramid down to 16x16 (64, 32, 16 for 64x64 images); from
every level 7x7 patches are cut at random places, normalised per colour channel, and the two sets
of patch descriptors are compared with the sliced Wasserstein distance. Small distances at 64 mean
similar fine detail, at 16 similar coarse structure. Needs no network.

A port of ProGAN's metrics/sliced_wasserstein.py for NHWC arrays and a seeded generator;
values are multiplied by 1e3 as ProGAN reports them.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

PATCH_SIZE = 7
MIN_RESOLUTION = 16
DIRECTION_REPEATS = 4
DIRECTIONS_PER_REPEAT = 128
SCALE = 1e3
_BINOMIAL_5 = np.float32([1, 4, 6, 4, 1]) / 16.0  # the 5x5 Gaussian of cv2.pyrDown, separably


def _blur(images: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """The 5x5 binomial filter over height and width of [N, H, W, C], mirrored at the borders."""
    blurred = ndimage.convolve1d(images, _BINOMIAL_5 * gain, axis=1, mode="mirror")
    return ndimage.convolve1d(blurred, _BINOMIAL_5 * gain, axis=2, mode="mirror")


def pyramid_down(images: np.ndarray) -> np.ndarray:
    """cv2.pyrDown: blur, then keep every second row and column."""
    return _blur(images)[:, ::2, ::2]


def pyramid_up(images: np.ndarray) -> np.ndarray:
    """cv2.pyrUp: insert zeros between pixels, then blur with gain 4 to keep the brightness."""
    n, height, width, channels = images.shape
    spread = np.zeros((n, 2 * height, 2 * width, channels), images.dtype)
    spread[:, ::2, ::2] = images
    return _blur(spread, gain=2.0)  # 2 per axis: 4 in all


def laplacian_pyramid(images: np.ndarray, num_levels: int) -> list[np.ndarray]:
    """Band-pass levels from fine to coarse; the last level is the low-pass residual."""
    pyramid = [np.float32(images)]
    for _ in range(1, num_levels):
        pyramid.append(pyramid_down(pyramid[-1]))
        pyramid[-2] -= pyramid_up(pyramid[-1])
    return pyramid


def resolutions(image_size: int) -> list[int]:
    sizes = []
    while image_size >= MIN_RESOLUTION:
        sizes.append(image_size)
        image_size //= 2
    return sizes


def patch_positions(
    count: int, height: int, width: int, patches_per_image: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image, top, left) of `patches_per_image` 7x7 windows per image, uniformly placed."""
    image = np.repeat(np.arange(count), patches_per_image)
    top = rng.integers(0, height - PATCH_SIZE + 1, size=len(image))
    left = rng.integers(0, width - PATCH_SIZE + 1, size=len(image))
    return image, top, left


def cut_patches(level: np.ndarray, positions) -> np.ndarray:
    """[len(image), 7, 7, C] windows of `level` [N, H, W, C] at `positions`."""
    image, top, left = positions
    offsets = np.arange(PATCH_SIZE)
    rows = (top[:, None] + offsets)[:, :, None]
    columns = (left[:, None] + offsets)[:, None, :]
    return level[image[:, None, None], rows, columns]


def normalize_descriptors(descriptors: np.ndarray) -> np.ndarray:
    """Zero mean and unit variance per colour channel over the whole set, flattened."""
    channels = descriptors.reshape(-1, descriptors.shape[-1])
    normalized = (channels - channels.mean(axis=0)) / channels.std(axis=0)
    return normalized.reshape(len(descriptors), -1)


def sliced_wasserstein(
    a: np.ndarray,
    b: np.ndarray,
    rng: np.random.Generator,
    repeats: int = DIRECTION_REPEATS,
    directions: int = DIRECTIONS_PER_REPEAT,
) -> float:
    """Mean 1-D Wasserstein distance of the projections on random unit directions.

    Both sets must hold the same number of descriptors: the sorted projections are matched
    one to one.
    """
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"expected two equal [n, d] descriptor sets, got {a.shape} and {b.shape}")
    results = []
    for _ in range(repeats):
        dirs = rng.standard_normal((a.shape[1], directions))
        dirs = (dirs / np.sqrt(np.sum(dirs**2, axis=0, keepdims=True))).astype(np.float32)
        # [direction, descriptor]: each direction's projections sorted in contiguous memory.
        projected_a = np.sort(dirs.T @ a.T, axis=1)
        projected_b = np.sort(dirs.T @ b.T, axis=1)
        results.append(np.mean(np.abs(projected_a - projected_b)))
    return float(np.mean(results))


def sliced_wasserstein_distances(
    real: np.ndarray, fake: np.ndarray, patches_per_image: int = 128, seed: int = 0
) -> dict[int, float]:
    """SWD x 1e3 per pyramid resolution, on equally many real and fake images (uint8 NHWC)."""
    count = min(len(real), len(fake))
    if count == 0:
        raise ValueError("SWD needs at least one image per set")
    rng = np.random.default_rng(seed)
    levels = resolutions(real.shape[1])
    real_pyramid = laplacian_pyramid(real[:count], len(levels))
    fake_pyramid = laplacian_pyramid(fake[:count], len(levels))
    distances = {}
    for resolution, real_level, fake_level in zip(levels, real_pyramid, fake_pyramid):
        # ProGAN draws each set's places independently; sharing them only removes sampling noise
        # (the places are uniform either way), and a set compared with itself then scores 0.
        positions = patch_positions(count, resolution, resolution, patches_per_image, rng)
        a = normalize_descriptors(cut_patches(real_level, positions))
        b = normalize_descriptors(cut_patches(fake_level, positions))
        distances[resolution] = SCALE * sliced_wasserstein(a, b, rng)
    return distances
