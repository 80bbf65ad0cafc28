"""MS-SSIM between pairs of generated images, a diversity check (Odena et al. 2017).

Mode collapse shows as generated pairs that are more alike than real pairs, so the mean over
random pairs is reported for both sets. Wang et al.'s MS-SSIM uses 5 scales and an 11x11
Gaussian (sigma 1.5): the coarsest scale must still hold the filter, so it needs images of at
least 161 px and fails on 64x64. Here the filter is 7x7 (sigma 1.0, the same 3-sigma support)
and the scales are as many as fit, 4 at 64 px, with the first weights of Wang et al. renormalised.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

WANG_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
FILTER_SIZE = 7
FILTER_SIGMA = 1.0


def fitted_scales(image_size: int, filter_size: int = FILTER_SIZE) -> int:
    """The most scales (at most 5) whose coarsest image is still as large as the filter."""
    if image_size < filter_size:
        raise ValueError(f"images of {image_size} px are smaller than the {filter_size}-px filter")
    scales = 1  # each scale halves the image, odd sizes rounded up as TF pads them
    while scales < len(WANG_WEIGHTS) and math.ceil(image_size / 2**scales) >= filter_size:
        scales += 1
    return scales


def power_factors(scales: int) -> tuple[float, ...]:
    weights = np.asarray(WANG_WEIGHTS[:scales])
    return tuple(float(w) for w in weights / weights.sum())


def ms_ssim(a, b, filter_size: int = FILTER_SIZE, filter_sigma: float = FILTER_SIGMA) -> np.ndarray:
    """MS-SSIM of each pair (a[i], b[i]) of uint8 images [N, H, W, 3]: 1 for identical images."""
    a = tf.cast(tf.convert_to_tensor(a), tf.float32)
    b = tf.cast(tf.convert_to_tensor(b), tf.float32)
    scales = fitted_scales(min(a.shape[1], a.shape[2]), filter_size)
    return tf.image.ssim_multiscale(
        a,
        b,
        max_val=255.0,
        power_factors=power_factors(scales),
        filter_size=filter_size,
        filter_sigma=filter_sigma,
    ).numpy()


def random_pairs(
    count: int, num_pairs: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """`num_pairs` index pairs (i, j), i != j, drawn uniformly."""
    if count < 2:
        raise ValueError(f"pairs need at least 2 images, got {count}")
    first = rng.integers(0, count, num_pairs)
    second = (first + rng.integers(1, count, num_pairs)) % count
    return first, second


def mean_pair_ms_ssim(
    images: np.ndarray, num_pairs: int, seed: int = 0, batch_size: int = 250
) -> float:
    first, second = random_pairs(len(images), num_pairs, np.random.default_rng(seed))
    batches = (slice(start, start + batch_size) for start in range(0, num_pairs, batch_size))
    scores = [ms_ssim(images[first[batch]], images[second[batch]]) for batch in batches]
    return float(np.concatenate(scores).mean())
