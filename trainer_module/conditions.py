"""What a conditional generator is asked for: attribute vectors, coded as CelebA codes them.

A conditional generator (PipelineConfig.conditional) draws G(z, a): its input is z followed by
one value per configured attribute, in the config's order, coded as list_attr_celeba.txt codes
them: +1 present, -1 absent; 0 for an attribute whose label is unknown (Transform's -1), which
asks for neither. The discriminator sees the same vector next to each image.

Wherever a conditional generator draws outside a training batch (sample grids, the quality
probe, BatchNorm statistics, the evaluator, `sample` without a full request), the attributes
come from real faces: rows of a table of the training split's attribute codes, so the drawn
combinations are the data's (no goatee with lipstick unless the data has one). An unconditional
generator is the same with a table of zero columns: its input is z alone.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from trainer_module import images

PRESENT, ABSENT, OPEN = 1.0, -1.0, 0.0


def attribute_codes(values):
    """Transform's attribute values (1 present, 0 absent, -1 unknown) -> the generator's codes
    (+1, -1, 0), a float32 tensor."""
    values = tf.convert_to_tensor(values)
    return tf.where(values == 1, PRESENT, tf.where(values == 0, ABSENT, OPEN))


def draw_rows(table: np.ndarray, count: int, seed: int) -> np.ndarray:
    """`count` rows of `table` drawn uniformly with replacement, the same for the same seed;
    [count, 0] for a table without columns (an unconditional generator)."""
    if table.shape[1] == 0:
        return np.zeros((count, 0), np.float32)
    if len(table) == 0:
        raise ValueError("a conditional generator needs at least one real attribute row")
    picks = np.random.default_rng(seed).integers(0, len(table), size=count)
    return table[picks].astype(np.float32)


def generator_inputs(
    count: int, z_dim: int, seed: int, table: np.ndarray | None = None
) -> np.ndarray:
    """[count, z_dim + attributes]: z ~ N(0, I) for the seed, followed by real attribute rows
    drawn with the same seed (none without a table): a fixed input for any generator."""
    z = images.latent_points(count, z_dim, seed)
    if table is None:
        return z
    return np.concatenate([z, draw_rows(table, count, seed + 1)], axis=1)


def random_rows(table: tf.Tensor, count, rng: tf.random.Generator) -> tf.Tensor:
    """`count` rows of `table` drawn with `rng` inside a TensorFlow graph."""
    picks = rng.uniform([count], 0, tf.shape(table)[0], dtype=tf.int32)
    return tf.gather(table, picks)


def matching_rows(table: tf.Tensor, request: tf.Tensor, count, seed) -> tf.Tensor:
    """[count, attributes]: real rows that agree with every attribute `request` asks for (its
    nonzero entries), drawn statelessly with `seed`, with the requested values written in.

    When no row agrees with the whole request (a combination the data lacks), the rows closest
    to it (fewest disagreements) are used: the request is always honoured, and the attributes it
    leaves open follow the data as far as the data allows.
    """
    asked = tf.not_equal(request, 0.0)
    disagreements = tf.reduce_sum(
        tf.cast(tf.logical_and(asked[None, :], tf.not_equal(table, request[None, :])), tf.int32),
        axis=1,
    )
    closest = tf.where(tf.equal(disagreements, tf.reduce_min(disagreements)))[:, 0]
    picks = tf.random.stateless_uniform(
        [count], seed=seed, minval=0, maxval=tf.shape(closest, out_type=tf.int64)[0], dtype=tf.int64
    )
    rows = tf.gather(table, tf.gather(closest, picks))
    return tf.where(asked[None, :], request[None, :], rows)
