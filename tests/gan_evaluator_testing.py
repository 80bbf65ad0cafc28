"""Image and feature sets shared by the GAN evaluator's tests."""

import numpy as np


def blob_images(rng, n, size=64, max_blobs=3):
    """Smooth images: a flat background plus a few soft Gaussian blobs, in [-1, 1]."""
    coords = np.linspace(-1.0, 1.0, size)
    yy, xx = np.meshgrid(coords, coords, indexing="ij")
    images = np.repeat(rng.uniform(-1, 0, (n, 1, 1, 3)), size, axis=1).repeat(size, axis=2)
    for _ in range(max_blobs):
        centre = rng.uniform(-0.7, 0.7, (n, 2, 1, 1))
        radius = rng.uniform(0.1, 0.4, (n, 1, 1))
        weight = np.exp(-((yy - centre[:, 0]) ** 2 + (xx - centre[:, 1]) ** 2) / (2 * radius**2))
        colour = rng.uniform(-1, 1, (n, 1, 1, 3))
        images = images + weight[..., None] * (colour - images)
    return np.clip(images, -1, 1).astype(np.float32)


def blob_pixels(rng, n, size=64):
    """`blob_images` as uint8, the way the evaluator sees every image."""
    return np.rint((blob_images(rng, n, size) + 1.0) * 127.5).astype(np.uint8)


def noise_images(rng, n, size=64):
    return rng.uniform(-1, 1, (n, size, size, 3)).astype(np.float32)
