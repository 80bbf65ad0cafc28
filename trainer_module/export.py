"""The generator as a SavedModel: what Pusher ships and the evaluator scores.

Signatures:
  serving_default: z float32 [N, z_dim] -> {"images": uint8 [N, image_size, image_size, 3]}
  sample:          count int32 [], seed int64 [] -> {"images": uint8 [N, image_size, image_size, 3]}

A conditional generator's take the attributes too (trainer_module/conditions.py for the codes,
+1 present, -1 absent, 0 open; the names, in order, are the training config's `attributes`):
  serving_default: z float32 [N, z_dim], attributes float32 [N, A] -> {"images": ...}
  sample:          count, seed, attributes float32 [A] -> {"images": ...}; the attributes the
                   request leaves open (0) come from real faces that have the requested ones
                   (conditions.matching_rows, on the table of real rows the model carries as
                   `attribute_table`).

The Trainer's config travels with the model in `assets.extra/training_config.json` (TF Serving's
place for extra files), so whoever holds a pushed generator can see how it was trained.
"""
from __future__ import annotations

import json
import os
from typing import Optional


import numpy as np
import tensorflow as tf

from common import graph_function
from trainer_module import conditions, pixels

SERVING_SIGNATURE = "serving_default"
SAMPLE_SIGNATURE = "sample"
TRAINING_CONFIG_FILE = os.path.join("assets.extra", "training_config.json")
ATTRIBUTES_INPUT = "attributes"


def _latent(count, seed, z_dim: int):
    return tf.random.stateless_normal([count, z_dim],
                                      seed=tf.stack([seed, tf.constant(0, tf.int64)]))


class GeneratorModule(tf.Module):
    def __init__(self, generator, z_dim: int):
        super().__init__()
        self.generator = generator
        self.z_dim = z_dim
        self.serve = graph_function(
            self._serve, input_signature=[tf.TensorSpec([None, z_dim], tf.float32, name="z")])
        self.sample = graph_function(self._sample, input_signature=[
            tf.TensorSpec([], tf.int32, name="count"), tf.TensorSpec([], tf.int64, name="seed")])

    def _serve(self, z):
        return {"images": pixels.to_uint8(self.generator(z, training=False))}

    def _sample(self, count, seed):
        return self._serve(_latent(count, seed, self.z_dim))


class ConditionalGeneratorModule(tf.Module):
    def __init__(self, generator, z_dim: int, table: np.ndarray):
        super().__init__()
        self.generator = generator
        self.z_dim = z_dim
        self.attribute_table = tf.Variable(table.astype(np.float32), trainable=False)
        width = table.shape[1]
        self.serve = graph_function(self._serve, input_signature=[
            tf.TensorSpec([None, z_dim], tf.float32, name="z"),
            tf.TensorSpec([None, width], tf.float32, name=ATTRIBUTES_INPUT)])
        self.sample = graph_function(self._sample, input_signature=[
            tf.TensorSpec([], tf.int32, name="count"), tf.TensorSpec([], tf.int64, name="seed"),
            tf.TensorSpec([width], tf.float32, name=ATTRIBUTES_INPUT)])

    def _serve(self, z, attributes):
        inputs = tf.concat([z, attributes], axis=1)
        return {"images": pixels.to_uint8(self.generator(inputs, training=False))}

    def _sample(self, count, seed, attributes):
        rows = conditions.matching_rows(self.attribute_table, attributes, count,
                                        tf.stack([seed, tf.constant(1, tf.int64)]))
        return self._serve(_latent(count, seed, self.z_dim), rows)


def export_generator(generator, export_dir: str, z_dim: int,
                     training_config: Optional[dict] = None,
                     attribute_table: Optional[np.ndarray] = None) -> None:
    """`attribute_table`: a conditional generator's real attribute rows (conditions.py)."""
    module = (GeneratorModule(generator, z_dim) if attribute_table is None
              else ConditionalGeneratorModule(generator, z_dim, attribute_table))
    tf.saved_model.save(module, export_dir, signatures={
        SERVING_SIGNATURE: module.serve, SAMPLE_SIGNATURE: module.sample})
    if training_config is not None:
        path = os.path.join(export_dir, TRAINING_CONFIG_FILE)
        tf.io.gfile.makedirs(os.path.dirname(path))
        with tf.io.gfile.GFile(path, "w") as f:
            f.write(json.dumps(training_config, indent=1, sort_keys=True, default=str) + "\n")


def read_training_config(export_dir: str) -> Optional[dict]:
    """The config the generator was trained with; None for a model exported without one."""
    path = os.path.join(export_dir, TRAINING_CONFIG_FILE)
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path) as f:
        return json.loads(f.read())

