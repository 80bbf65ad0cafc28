"""Feature extractors: images -> feature vectors, each named in the metric keys it produces.

- `random_embedding`: a fixed, seeded, randomly initialised conv net. Needs no weights, so it
  always works offline; its numbers rank models but are not comparable with papers.
- `inception_ttur`: the Inception graph of TTUR / TF-GAN (pool_3, 2048-d) from a file the user
  supplies, fed exactly as those implementations feed it: FIDs comparable with papers.
- `inception_keras`: Keras' InceptionV3 with ImageNet weights from a local file or Keras' cache.
  Different weights and resizing from TTUR's: not comparable with papers.

Nothing is downloaded at run time; a missing file raises `FileNotFoundError` saying how to get it.
Every extractor takes uint8 images [N, H, W, 3] (or floats in [-1, 1]) and returns float64
[N, dim], and has a `fingerprint()` that changes whenever its output could.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from common import graph_function
from metrics import storage

INCEPTION_SIZE = 299

TTUR_INPUT = "Mul:0"  # after TTUR's graph resizes and scales: [N, 299, 299, 3] in [-1, 1]
TTUR_OUTPUT = "pool_3:0"  # [N, 1, 1, 2048]
TTUR_MISSING = (
    "inception_ttur needs the Inception graph of TTUR / TF-GAN, which is not downloaded at run "
    "time, and there is none at {path!r}. On a machine with internet access download "
    "http://download.tensorflow.org/models/image/imagenet/inception-2015-12-05.tgz, extract "
    "classify_image_graph_def.pb (TF-GAN's inceptionv1_for_inception_score.pb from "
    "frozen_inception_v1_2015_12_05.tar.gz works too), and set "
    "PipelineConfig.eval_inception_ttur_path to the .pb file."
)

KERAS_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
KERAS_MISSING = (
    "inception_keras needs Keras' InceptionV3 ImageNet weights without the top, which are not "
    "downloaded at run time, and there are none at {path!r}. On a machine with internet access "
    "download https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
    f"{KERAS_WEIGHTS_FILE}, then set PipelineConfig.eval_inception_keras_weights to the file or "
    "put it in Keras' cache ($KERAS_HOME/models, by default ~/.keras/models)."
)


def as_pixels(images) -> tf.Tensor:
    """uint8 images, or floats in [-1, 1], as float32 pixel values in [0, 255]."""
    images = tf.convert_to_tensor(images)
    if images.dtype == tf.uint8:
        return tf.cast(images, tf.float32)
    return (tf.cast(images, tf.float32) + 1.0) * 127.5


def resize_like_tf1(pixels: tf.Tensor, size: int) -> tf.Tensor:
    """Bilinear resize as TF 1's ResizeBilinear did (no half-pixel centres, no antialiasing).

    TTUR's graph and TF-GAN both resize this way; TF 2's tf.image.resize samples differently.
    """
    return tf.raw_ops.ResizeBilinear(
        images=pixels, size=[size, size], align_corners=False, half_pixel_centers=False
    )


class FeatureExtractor:
    """Applies `_features` to chunks of `batch_size` images, so memory stays bounded."""

    name = ""
    comparable_with_papers = False
    batch_size = 250
    dim = 0

    def _features(self, pixels: tf.Tensor) -> tf.Tensor:
        raise NotImplementedError

    def fingerprint(self) -> str:
        raise NotImplementedError

    def describe(self) -> dict:
        return {"dim": self.dim, "comparable_with_papers": self.comparable_with_papers}

    def __call__(self, images) -> np.ndarray:
        pixels = as_pixels(images)
        if pixels.shape.rank != 4 or pixels.shape[-1] != 3:
            raise ValueError(f"expected images [N, H, W, 3], got {pixels.shape}")
        chunks = [
            self._features(pixels[start : start + self.batch_size]).numpy()
            for start in range(0, int(pixels.shape[0]), self.batch_size)
        ]
        if not chunks:
            return np.zeros((0, self.dim), dtype=np.float64)
        return np.concatenate(chunks).reshape(-1, self.dim).astype(np.float64)


class RandomEmbedding(FeatureExtractor):
    """A fixed, randomly initialised conv net used as a feature extractor.

    Random embeddings rank generative models much like trained ones for FID-style metrics
    (Naeem et al. 2020; Lee et al. 2023) and need no downloaded weights. The weights come from
    ``numpy.random.default_rng(seed)`` with He-normal scaling, so the same seed gives the same
    network on every machine and TensorFlow version.

    Four 4x4 stride-2 convolutions (3 -> 32 -> 64 -> 128 -> 256 channels, LeakyReLU 0.2) take
    64x64 down to 4x4; global average pooling concatenated with global max pooling gives 512
    features. Being convolutional and pooled, the same network embeds square images of other
    sizes (128 px ends at 8x8); figures compare only between images of one size.
    """

    name = "random_embedding"
    min_image_size = 16  # four stride-2 convolutions leave 1 x 1
    channels = (32, 64, 128, 256)
    kernel_size = 4
    leaky_slope = 0.2

    def __init__(self, seed: int = 0, batch_size: int = 250):
        self.seed = seed
        self.batch_size = batch_size
        self.dim = 2 * self.channels[-1]
        rng = np.random.default_rng(seed)
        kernels, in_channels = [], 3
        for out_channels in self.channels:
            fan_in = self.kernel_size * self.kernel_size * in_channels
            shape = (self.kernel_size, self.kernel_size, in_channels, out_channels)
            kernel = rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)
            kernels.append(kernel.astype(np.float32))
            in_channels = out_channels
        self._digest = storage.fingerprint_arrays(*kernels)
        self._kernels = [tf.constant(kernel) for kernel in kernels]
        self._embed = graph_function(
            self._forward, input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)]
        )

    def _forward(self, pixels):
        x = pixels / 127.5 - 1.0
        for kernel in self._kernels:
            x = tf.nn.leaky_relu(
                tf.nn.conv2d(x, kernel, strides=2, padding="SAME"), alpha=self.leaky_slope
            )
        return tf.concat([tf.reduce_mean(x, axis=[1, 2]), tf.reduce_max(x, axis=[1, 2])], axis=1)

    def _features(self, pixels):
        _, height, width, channels = pixels.shape
        if height != width or channels != 3 or height < self.min_image_size:
            raise ValueError(
                f"expected square RGB images of at least {self.min_image_size} px, "
                f"[N, size, size, 3], got {pixels.shape}"
            )
        return self._embed(pixels)

    def fingerprint(self) -> str:
        return f"{self.name}-{self._digest}"


class InceptionTTUR(FeatureExtractor):
    """pool_3 of the frozen Inception graph that TTUR and TF-GAN compute FID with.

    Images are resized to 299 with TF 1's bilinear rule and scaled with (x - 128) / 128, which is
    what the graph's own ResizeBilinear, Sub and Mul nodes do; the graph is then entered at
    `Mul:0`, so any batch size works (TTUR's file is otherwise fixed to one JPEG).
    """

    name = "inception_ttur"
    comparable_with_papers = True

    def __init__(self, graph_path: str, batch_size: int = 50):
        if not graph_path or not tf.io.gfile.exists(graph_path):
            raise FileNotFoundError(TTUR_MISSING.format(path=graph_path))
        self.batch_size = batch_size
        serialized = storage.read_bytes(graph_path)
        self._digest = hashlib.sha256(serialized).hexdigest()
        graph_def = tf.compat.v1.GraphDef.FromString(serialized)

        def pool_3(images):
            return tf.graph_util.import_graph_def(
                graph_def, input_map={TTUR_INPUT: images}, return_elements=[TTUR_OUTPUT]
            )[0]

        self._pool_3 = tf.compat.v1.wrap_function(
            pool_3, [tf.TensorSpec([None, INCEPTION_SIZE, INCEPTION_SIZE, 3], tf.float32)]
        )
        self.dim = int(self._pool_3.outputs[0].shape[-1])

    def _features(self, pixels):
        resized = resize_like_tf1(pixels, INCEPTION_SIZE)
        return self._pool_3((resized - 128.0) * (1.0 / 128.0))

    def fingerprint(self) -> str:
        return f"{self.name}-{self._digest}"


def keras_cache_path() -> str:
    keras_home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    return os.path.join(keras_home, "models", KERAS_WEIGHTS_FILE)


def inception_v3_without_top():
    import tf_keras

    return tf_keras.applications.InceptionV3(
        include_top=False,
        weights=None,
        pooling="avg",
        input_shape=(INCEPTION_SIZE, INCEPTION_SIZE, 3),
    )


class InceptionKeras(FeatureExtractor):
    """Keras' InceptionV3 (ImageNet, average-pooled, 2048-d), with Keras' own preprocessing.

    `build_model` returns the architecture the weights file belongs to; tests pass a small one.
    """

    name = "inception_keras"

    def __init__(
        self,
        weights_path: str = "",
        batch_size: int = 50,
        build_model: Callable = inception_v3_without_top,
    ):
        path = weights_path or keras_cache_path()
        if not os.path.isfile(path):
            raise FileNotFoundError(KERAS_MISSING.format(path=path))
        self.batch_size = batch_size
        self._digest = storage.fingerprint_files([path], root=os.path.dirname(path))
        self._model = build_model()
        self._model.load_weights(path)
        self.dim = int(self._model.output_shape[-1])

    def _features(self, pixels):
        resized = tf.image.resize(pixels, [INCEPTION_SIZE, INCEPTION_SIZE], method="bilinear")
        return self._model(resized / 127.5 - 1.0, training=False)

    def fingerprint(self) -> str:
        return f"{self.name}-{self._digest}"


EXTRACTORS = ("random_embedding", "inception_ttur", "inception_keras")


def build_extractor(
    name: str, *, seed: int = 0, inception_ttur_path: str = "", inception_keras_weights: str = ""
) -> FeatureExtractor:
    if name == "random_embedding":
        return RandomEmbedding(seed=seed)
    if name == "inception_ttur":
        return InceptionTTUR(inception_ttur_path)
    if name == "inception_keras":
        return InceptionKeras(inception_keras_weights)
    raise ValueError(f"unknown feature extractor {name!r}; choose from {EXTRACTORS}")
