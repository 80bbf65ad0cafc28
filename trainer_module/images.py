"""Latent points, image grids and progress GIFs (Pillow): the helpers trainer, evaluator and the
`dcgan-faces` command share."""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence

import numpy as np
import tensorflow as tf
from PIL import Image

from trainer_module import pixels


def latent_points(count: int, z_dim: int, seed: int, dtype=np.float32) -> np.ndarray:
    """`count` points z ~ N(0, I), [count, z_dim], the same for the same seed: how every fixed z
    outside training is drawn (the evaluator's sample, the probe's, the sample grids', the CLI's,
    each with its own seed)."""
    return np.random.default_rng(seed).standard_normal((count, z_dim)).astype(dtype)


def to_uint8(images) -> np.ndarray:
    """[-1, 1] floats -> uint8 by the exported generator's own rule; uint8 passes through."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    if not np.issubdtype(images.dtype, np.floating):
        raise TypeError(f"expected uint8 or float images, got {images.dtype}")
    return pixels.to_uint8(tf.constant(images, tf.float32)).numpy()


def image_grid(images, columns: int, gap: int = 2) -> Image.Image:
    """Tiles images [N, H, W, 3] row by row, `gap` black pixels apart."""
    images = to_uint8(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.shape[0] == 0:
        raise ValueError(f"expected images [N, H, W, 3] with N > 0, got {images.shape}")
    if columns < 1:
        raise ValueError(f"columns must be positive, got {columns}")
    n, height, width, _ = images.shape
    columns = min(columns, n)
    rows = math.ceil(n / columns)
    grid = np.zeros(
        (rows * height + (rows - 1) * gap, columns * width + (columns - 1) * gap, 3), dtype=np.uint8
    )
    for index, image in enumerate(images):
        top, left = (index // columns) * (height + gap), (index % columns) * (width + gap)
        grid[top : top + height, left : left + width] = image
    return Image.fromarray(grid)


def _write(path: str, data: bytes) -> None:
    """Writes through tf.io.gfile so local and remote (gs://) artifact paths both work."""
    parent = os.path.dirname(str(path))
    if parent:
        tf.io.gfile.makedirs(parent)
    with tf.io.gfile.GFile(str(path), "wb") as f:
        f.write(data)


def save_image_grid(images, path: str, columns: int, gap: int = 2) -> Image.Image:
    grid = image_grid(images, columns, gap)
    buffer = io.BytesIO()
    grid.save(buffer, format="PNG")
    _write(path, buffer.getvalue())
    return grid


def save_gif(frames: Sequence[Image.Image], path: str, frame_ms: int = 500) -> None:
    """An animated GIF of the frames in order; the last frame is held three times as long."""
    if not frames:
        raise ValueError("a GIF needs at least one frame")
    buffer = io.BytesIO()
    durations = [frame_ms] * (len(frames) - 1) + [3 * frame_ms]
    frames[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=list(frames[1:]),
        duration=durations,
        loop=0,
    )
    _write(path, buffer.getvalue())
