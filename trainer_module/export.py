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

import dataclasses
import json
import os

import numpy as np
import tensorflow as tf

from common import graph_function
from trainer_module import conditions, pixels

SERVING_SIGNATURE = "serving_default"
SAMPLE_SIGNATURE = "sample"
TRAINING_CONFIG_FILE = os.path.join("assets.extra", "training_config.json")
ATTRIBUTES_INPUT = "attributes"


def _latent(count, seed, z_dim: int):
    return tf.random.stateless_normal(
        [count, z_dim], seed=tf.stack([seed, tf.constant(0, tf.int64)])
    )


class GeneratorModule(tf.Module):
    def __init__(self, generator, z_dim: int):
        super().__init__()
        self.generator = generator
        self.z_dim = z_dim
        self.serve = graph_function(
            self._serve, input_signature=[tf.TensorSpec([None, z_dim], tf.float32, name="z")]
        )
        self.sample = graph_function(
            self._sample,
            input_signature=[
                tf.TensorSpec([], tf.int32, name="count"),
                tf.TensorSpec([], tf.int64, name="seed"),
            ],
        )

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
        self.serve = graph_function(
            self._serve,
            input_signature=[
                tf.TensorSpec([None, z_dim], tf.float32, name="z"),
                tf.TensorSpec([None, width], tf.float32, name=ATTRIBUTES_INPUT),
            ],
        )
        self.sample = graph_function(
            self._sample,
            input_signature=[
                tf.TensorSpec([], tf.int32, name="count"),
                tf.TensorSpec([], tf.int64, name="seed"),
                tf.TensorSpec([width], tf.float32, name=ATTRIBUTES_INPUT),
            ],
        )

    def _serve(self, z, attributes):
        inputs = tf.concat([z, attributes], axis=1)
        return {"images": pixels.to_uint8(self.generator(inputs, training=False))}

    def _sample(self, count, seed, attributes):
        rows = conditions.matching_rows(
            self.attribute_table, attributes, count, tf.stack([seed, tf.constant(1, tf.int64)])
        )
        return self._serve(_latent(count, seed, self.z_dim), rows)


def export_generator(
    generator,
    export_dir: str,
    z_dim: int,
    training_config: dict | None = None,
    attribute_table: np.ndarray | None = None,
) -> None:
    """`attribute_table`: a conditional generator's real attribute rows (conditions.py)."""
    module = (
        GeneratorModule(generator, z_dim)
        if attribute_table is None
        else ConditionalGeneratorModule(generator, z_dim, attribute_table)
    )
    tf.saved_model.save(
        module,
        export_dir,
        signatures={SERVING_SIGNATURE: module.serve, SAMPLE_SIGNATURE: module.sample},
    )
    if training_config is not None:
        path = os.path.join(export_dir, TRAINING_CONFIG_FILE)
        tf.io.gfile.makedirs(os.path.dirname(path))
        with tf.io.gfile.GFile(path, "w") as f:
            f.write(json.dumps(training_config, indent=1, sort_keys=True, default=str) + "\n")


class NotAGenerator(ValueError):
    """A SavedModel without the generator's serving signature; the message says what it has."""


def _is_generator(signature) -> bool:
    """serving_default maps z float32 [N, d] (and, conditional, attributes float32 [N, A]) to
    images uint8 [N, H, W, C]."""
    _, inputs = signature.structured_input_signature
    images = signature.structured_outputs.get("images")
    if set(inputs) not in ({"z"}, {"z", ATTRIBUTES_INPUT}):
        return False
    return (
        all(
            spec.dtype == tf.float32 and spec.shape.rank == 2 and spec.shape[1] is not None
            for spec in inputs.values()
        )
        and images is not None
        and images.dtype == tf.uint8
        and images.shape.rank == 4
    )


@dataclasses.dataclass(frozen=True)
class LoadedGenerator:
    """An exported generator loaded back: the one reader of the signatures export_generator
    writes, for the evaluator and for dcgan_faces."""

    export_dir: str
    z_dim: int
    attribute_count: int  # 0 for an unconditional generator
    serve: object  # the serving_default signature
    sample: object | None  # the sample signature (None in a model exported without one)
    module: object  # the loaded SavedModel: keeps the variables alive, holds attribute_table

    @property
    def attribute_table(self) -> np.ndarray | None:
        """A conditional generator's real attribute rows; None for an unconditional one."""
        return self.module.attribute_table.numpy() if self.attribute_count else None

    def images(self, inputs: np.ndarray) -> np.ndarray:
        """uint8 [N, H, W, 3] for inputs [N, z_dim (+ attributes)]: z, then the codes."""
        if not self.attribute_count:
            return self.serve(z=tf.constant(inputs))["images"].numpy()
        return self.serve(
            z=tf.constant(inputs[:, : self.z_dim]), attributes=tf.constant(inputs[:, self.z_dim :])
        )["images"].numpy()


def load_generator(export_dir: str) -> LoadedGenerator:
    """The SavedModel in `export_dir`; NotAGenerator when its serving signature is not one."""
    loaded = tf.saved_model.load(export_dir)
    signatures = dict(loaded.signatures)
    serve = signatures.get(SERVING_SIGNATURE)
    if serve is None or not _is_generator(serve):
        raise NotAGenerator(
            f"{export_dir} is a SavedModel but not a generator: it needs a {SERVING_SIGNATURE} "
            f"signature z float32 [N, d] -> images uint8 [N, H, W, 3] (signatures found: "
            f"{', '.join(sorted(signatures)) or 'none'})"
        )
    inputs = serve.structured_input_signature[1]
    attributes = inputs[ATTRIBUTES_INPUT].shape[1] if ATTRIBUTES_INPUT in inputs else 0
    return LoadedGenerator(
        export_dir=export_dir,
        z_dim=int(inputs["z"].shape[1]),
        attribute_count=int(attributes),
        serve=serve,
        sample=signatures.get(SAMPLE_SIGNATURE),
        module=loaded,
    )


def read_training_config(export_dir: str) -> dict | None:
    """The config the generator was trained with; None for a model exported without one."""
    path = os.path.join(export_dir, TRAINING_CONFIG_FILE)
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path) as f:
        return json.loads(f.read())
