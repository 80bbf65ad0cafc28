"""Feature extraction, feature statistics and Frechet distance for the GAN evaluator.

The pieces are kept apart so each can be tested on its own: an extractor maps
images to feature vectors, `FeatureStatistics` reduces any number of feature
batches to a mean and covariance in float64, and `frechet_distance` compares two
such Gaussians. Image-grid helpers turn generator samples into PNGs for review.
"""

import io
import math
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np
import tensorflow as tf
from PIL import Image
from scipy import linalg

IMAGE_SIZE = 64
IMAGE_CHANNELS = 3


class RandomEmbedding:
    """A fixed, randomly initialised conv net used as a feature extractor.

    Random embeddings rank generative models much like trained ones for
    FID-style metrics (Naeem et al., 2020) and need no downloaded weights.
    The weights come from ``numpy.random.default_rng(seed)`` with He-normal
    scaling, so the same seed gives the same network on every machine and
    TensorFlow version.

    Architecture: four 4x4 stride-2 convolutions (3 -> 32 -> 64 -> 128 -> 256
    channels, LeakyReLU 0.2), taking 64x64 down to 4x4, then global average
    pooling concatenated with global max pooling: ``dim = 512`` features.

    Input: float images [N, 64, 64, 3] in [-1, 1] (uint8 images are rescaled to
    that range). Output: float64 numpy array [N, dim].
    """

    name = "random_embedding"
    channels = (32, 64, 128, 256)
    kernel_size = 4
    leaky_slope = 0.2

    def __init__(self, seed=0, batch_size=256):
        self.seed = seed
        self.batch_size = batch_size
        self.dim = 2 * self.channels[-1]
        rng = np.random.default_rng(seed)
        self._kernels = []
        in_channels = IMAGE_CHANNELS
        for out_channels in self.channels:
            fan_in = self.kernel_size * self.kernel_size * in_channels
            shape = (self.kernel_size, self.kernel_size, in_channels, out_channels)
            kernel = rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)
            self._kernels.append(tf.constant(kernel.astype(np.float32)))
            in_channels = out_channels
        signature = [tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, IMAGE_CHANNELS], tf.float32)]
        self._embed = tf.function(self._forward, input_signature=signature)

    def _forward(self, images):
        x = images
        for kernel in self._kernels:
            x = tf.nn.conv2d(x, kernel, strides=2, padding="SAME")
            x = tf.nn.leaky_relu(x, alpha=self.leaky_slope)
        return tf.concat([tf.reduce_mean(x, axis=[1, 2]), tf.reduce_max(x, axis=[1, 2])], axis=1)

    def __call__(self, images):
        images = tf.convert_to_tensor(images)
        if images.dtype == tf.uint8:
            images = tf.cast(images, tf.float32) / 127.5 - 1.0
        images = tf.cast(images, tf.float32)
        if images.shape.rank != 4 or tuple(images.shape[1:]) != (IMAGE_SIZE, IMAGE_SIZE, IMAGE_CHANNELS):
            raise ValueError(
                f"expected images [N, {IMAGE_SIZE}, {IMAGE_SIZE}, {IMAGE_CHANNELS}], got {images.shape}"
            )
        # Chunking bounds the activation memory for large N; the batch dimension
        # of the signature is None, so smaller last chunks do not retrace.
        chunks = [
            self._embed(images[start:start + self.batch_size]).numpy()
            for start in range(0, int(images.shape[0]), self.batch_size)
        ]
        if not chunks:
            return np.zeros((0, self.dim), dtype=np.float64)
        return np.concatenate(chunks).astype(np.float64)


class FeatureStatistics:
    """Streaming mean and covariance of feature vectors, in float64.

    Batches are merged with Chan et al.'s parallel update (count, mean and the
    sum of centred outer products), which stays accurate when features have a
    large mean, unlike raw sums of x and x x^T. Memory is O(dim^2) however many
    samples are seen.
    """

    def __init__(self, dim=None):
        self.count = 0
        self.dim = None
        if dim is not None:
            self._allocate(dim)

    def _allocate(self, dim):
        self.dim = dim
        self._mean = np.zeros(dim, dtype=np.float64)
        self._m2 = np.zeros((dim, dim), dtype=np.float64)

    def update(self, features):
        """Adds a batch of features [n, dim]."""
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2:
            raise ValueError(f"expected features [n, dim], got shape {features.shape}")
        if self.dim is None:
            self._allocate(features.shape[1])
        if features.shape[1] != self.dim:
            raise ValueError(f"expected {self.dim} features, got {features.shape[1]}")
        n = features.shape[0]
        if n == 0:
            return self
        batch_mean = features.mean(axis=0)
        centred = features - batch_mean
        batch_m2 = centred.T @ centred
        total = self.count + n
        delta = batch_mean - self._mean
        self._mean = self._mean + delta * (n / total)
        self._m2 = self._m2 + batch_m2 + np.outer(delta, delta) * (self.count * n / total)
        self.count = total
        return self

    @property
    def mean(self):
        if self.count == 0:
            raise ValueError("no features have been added")
        return self._mean.copy()

    @property
    def covariance(self):
        """Unbiased (ddof=1) covariance, as np.cov gives."""
        if self.count < 2:
            raise ValueError("the covariance needs at least two samples")
        return self._m2 / (self.count - 1)

    def to_npz(self, path):
        """Caches the statistics; tf.io.gfile lets `path` be local or remote."""
        if self.dim is None:
            raise ValueError("no features have been added")
        buffer = io.BytesIO()
        np.savez(buffer, count=np.int64(self.count), mean=self._mean, m2=self._m2)
        parent = os.path.dirname(str(path))
        if parent:
            tf.io.gfile.makedirs(parent)
        with tf.io.gfile.GFile(str(path), "wb") as f:
            f.write(buffer.getvalue())

    @classmethod
    def from_npz(cls, path):
        with tf.io.gfile.GFile(str(path), "rb") as f:
            data = np.load(io.BytesIO(f.read()))
            stats = cls()
            stats.dim = data["mean"].shape[0]
            stats.count = int(data["count"])
            stats._mean = data["mean"].astype(np.float64)
            stats._m2 = data["m2"].astype(np.float64)
        return stats


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2).

    d^2 = ||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2)),
    computed in float64 as in the TTUR reference implementation. When fewer
    samples than dimensions make the product singular and sqrtm fails, `eps`
    is added to both diagonals and the root is taken again. Besides non-finite
    output (the TTUR test), a root whose square is far from the product counts
    as a failure: on singular input scipy can return finite garbage.
    """
    mu1 = np.atleast_1d(np.asarray(mu1, dtype=np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, dtype=np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, dtype=np.float64))
    if mu1.shape != mu2.shape:
        raise ValueError(f"mean shapes differ: {mu1.shape} vs {mu2.shape}")
    if sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(f"covariance shapes {sigma1.shape}, {sigma2.shape} do not fit mean {mu1.shape}")

    diff = mu1 - mu2
    covmean = _reliable_sqrtm(sigma1 @ sigma2)
    if covmean is None:
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = _reliable_sqrtm((sigma1 + offset) @ (sigma2 + offset))
        if covmean is None:
            raise ValueError("sqrtm of the covariance product failed even with an offset")
    if np.iscomplexobj(covmean):
        # A product of two PSD matrices has a real square root; a sizeable
        # imaginary part means the statistics are broken, not just rounded.
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"imaginary component {np.max(np.abs(covmean.imag))} in sqrtm")
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def _reliable_sqrtm(matrix, tolerance=1e-3):
    """scipy's sqrtm, or None when its result is non-finite or does not square back to `matrix`."""
    root, _ = linalg.sqrtm(matrix, disp=False)
    if not np.isfinite(root).all():
        return None
    residual = np.linalg.norm(root @ root - matrix) / max(np.linalg.norm(matrix), np.finfo(np.float64).tiny)
    return root if residual <= tolerance else None


def compute_statistics(extractor, batches):
    """Runs `extractor` over an iterable of image batches and accumulates the features."""
    stats = FeatureStatistics()
    for images in batches:
        stats.update(extractor(images))
    return stats


def to_uint8(images):
    """Converts images in [-1, 1] to uint8 with the generator export's rule.

    round((x + 1) * 127.5) clipped to 0..255, computed in float32 like the
    export, with round-half-to-even as tf.round does (so 0 -> 127.5 -> 128).
    uint8 input is returned unchanged.
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    if not np.issubdtype(images.dtype, np.floating):
        raise TypeError(f"expected uint8 or float images, got {images.dtype}")
    scaled = np.rint((images.astype(np.float32) + 1.0) * 127.5)
    return np.clip(scaled, 0, 255).astype(np.uint8)


def image_grid(images, columns, gap=2):
    """Tiles images [N, H, W, 3] row by row into one picture, `gap` black pixels apart.

    The grid is min(columns, N) tiles wide and ceil(N / columns) tiles high.
    """
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
        top = (index // columns) * (height + gap)
        left = (index % columns) * (width + gap)
        grid[top:top + height, left:left + width] = image
    return Image.fromarray(grid)


def save_image_grid(images, path, columns, gap=2):
    """Writes `image_grid(images, columns, gap)` as a PNG to a local or remote path."""
    buffer = io.BytesIO()
    image_grid(images, columns, gap).save(buffer, format="PNG")
    parent = os.path.dirname(str(path))
    if parent:
        tf.io.gfile.makedirs(parent)
    with tf.io.gfile.GFile(str(path), "wb") as f:
        f.write(buffer.getvalue())
