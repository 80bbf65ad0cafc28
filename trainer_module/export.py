"""The generator as a SavedModel: what Pusher ships and the evaluator scores.

Signatures:
  serving_default: z float32 [N, z_dim] -> {"images": uint8 [N, 64, 64, 3]}
  sample:          count int32 [], seed int64 [] -> {"images": uint8 [N, 64, 64, 3]}
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tensorflow as tf  # noqa: E402

SERVING_SIGNATURE = "serving_default"
SAMPLE_SIGNATURE = "sample"


def to_uint8_pixels(images: tf.Tensor) -> tf.Tensor:
    """[-1, 1] -> uint8 with round((x + 1) * 127.5), clipped: the inverse of the Transform scaling."""
    return tf.cast(tf.clip_by_value(tf.round((images + 1.0) * 127.5), 0.0, 255.0), tf.uint8)


class GeneratorModule(tf.Module):
    def __init__(self, generator, z_dim: int):
        super().__init__()
        self.generator = generator
        self.z_dim = z_dim
        self.serve = tf.function(
            self._serve, input_signature=[tf.TensorSpec([None, z_dim], tf.float32, name="z")])
        self.sample = tf.function(self._sample, input_signature=[
            tf.TensorSpec([], tf.int32, name="count"), tf.TensorSpec([], tf.int64, name="seed")])

    def _serve(self, z):
        return {"images": to_uint8_pixels(self.generator(z, training=False))}

    def _sample(self, count, seed):
        z = tf.random.stateless_normal([count, self.z_dim], seed=tf.stack([seed, tf.constant(0, tf.int64)]))
        return self._serve(z)


def export_generator(generator, export_dir: str, z_dim: int) -> None:
    module = GeneratorModule(generator, z_dim)
    tf.saved_model.save(module, export_dir, signatures={
        SERVING_SIGNATURE: module.serve, SAMPLE_SIGNATURE: module.sample})


def load_serving_fn(export_dir: str):
    """The `serving_default` function of an exported generator: z -> {"images": uint8}."""
    return tf.saved_model.load(export_dir).signatures[SERVING_SIGNATURE]
