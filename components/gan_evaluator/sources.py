"""The image sources the evaluator scores, each with a content fingerprint for the cache.

Every image is uint8, the way the exported generator delivers it; real images are Transform's
uint8 PNGs, decoded as the Trainer decodes them. Generated sets use fixed latent points, so every
model is scored on the same z and a generator's fingerprint (its weights plus the latent points)
determines its images.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import tensorflow as tf
import tf_keras
from tfx.utils import path_utils

from common import graph_function
from metrics import storage
from trainer_module import export, images, networks, pixels
from trainer_module.batchnorm import refresh_batchnorm_statistics
from trainer_module.transformed_examples import split_files

UNTRAINED_SEED = 0
SAMPLE_SEED = 1234

# Generator inputs float32 [n, z_dim (+ attributes)] -> uint8 [n, size, size, 3]; a conditional
# generator's inputs are z followed by the attribute codes (trainer_module/conditions.py).
Generator = Callable[[np.ndarray], np.ndarray]
GeneratorSource = tuple[Generator, str]  # and the fingerprint of its weights


def real_source_key(split_uri: str, split: str, max_images: int) -> dict:
    """Transform's output bytes determine the images: the raw data and the transform together."""
    return {
        "kind": "transformed_examples",
        "split": split,
        "max_images": max_images,
        "files": storage.fingerprint_files(split_files(split_uri), root=split_uri),
    }


def latent_points(num_samples: int, z_dim: int, seed: int = SAMPLE_SEED) -> np.ndarray:
    """The evaluator's fixed z (float32)."""
    return images.latent_points(num_samples, z_dim, seed)


def generated_batches(generate: Generator, z: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(z), batch_size):
        yield generate(z[start : start + batch_size])


def generator_source_key(
    weights_fingerprint: str, num_samples: int, z_dim: int, inputs_fingerprint: str = ""
) -> dict:
    """What determines a generator's images: its weights and its inputs (the latent seed, and a
    conditional generator's attribute rows: `inputs_fingerprint`)."""
    key = {
        "kind": "generator",
        "weights": weights_fingerprint,
        "num_samples": num_samples,
        "z_dim": z_dim,
        "latent_seed": SAMPLE_SEED,
    }
    return {**key, "inputs": inputs_fingerprint} if inputs_fingerprint else key


def exported_generator(model_uri: str) -> GeneratorSource:
    """The Trainer's SavedModel (serving_default: z [, attributes] -> uint8 images) and its
    files' fingerprint."""
    return exported_model(model_uri)[0]


def exported_model(model_uri: str) -> tuple[GeneratorSource, np.ndarray | None]:
    """exported_generator's source, and the real attribute rows a conditional generator carries
    (trainer_module/export.py; None for an unconditional one), from one load of the
    SavedModel. A conditional generator's inputs are split into z and attributes here."""
    export_dir = path_utils.serving_model_path(model_uri)
    generator = export.load_generator(export_dir)
    return (
        (generator.images, storage.fingerprint_directory(export_dir)),
        generator.attribute_table,
    )


def untrained_generator(
    *,
    z_dim: int,
    variant: str,
    image_size: int,
    attributes: int,
    filters: int,
    attribute_table: np.ndarray | None,
) -> GeneratorSource:
    """A freshly initialised generator of the Trainer's architecture, as the Trainer would
    export it after no step: the floor to beat.

    Its BatchNorm statistics are re-estimated as run_fn does before every export (a conditional
    one's batches ask for rows of `attribute_table`). Without that, its layers normalised with
    the initial mean 0 and variance 1 and drew a floor so low that the Trainer's own export of
    an untrained network passed the gate's FD ratio (0.30 against 0.5).

    Seeded as the Trainer seeds its networks (tf.random.set_seed alone leaves Keras'
    initialisers unseeded), so its statistics are the same every run and can be cached.
    """
    tf_keras.utils.set_random_seed(UNTRAINED_SEED)
    generator = networks.build_generator(
        z_dim=z_dim, variant=variant, image_size=image_size, attributes=attributes, filters=filters
    )
    refresh_batchnorm_statistics(generator, z_dim, attribute_table=attribute_table)
    generate = graph_function(lambda z: pixels.to_uint8(generator(z, training=False)))
    weights = [w.numpy() for w in generator.weights]
    return (
        lambda z: generate(tf.constant(z)).numpy(),
        "untrained-" + storage.fingerprint_arrays(*weights),
    )
