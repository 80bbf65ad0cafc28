"""Re-estimate the generator's BatchNorm statistics before export.

During training BN normalises with batch statistics; at inference it uses moving averages
(momentum 0.99), which after a short run still carry the initial (0, 1) values and lag the
fast-changing weights. Averaging the batch statistics of a few fresh z batches with the final
weights gives the exported generator the statistics it was trained with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf
import tf_keras as keras

from trainer_module import conditions

if TYPE_CHECKING:
    from trainer_module.weight_average import WeightAverage


def refresh_batchnorm_statistics(
    generator: keras.Model,
    z_dim: int,
    batches: int = 16,
    batch_size: int = 128,
    seed: int = 0,
    attribute_table: np.ndarray | None = None,
) -> None:
    """Sets every BN layer's moving mean/variance to the mean of `batches` batch statistics.

    A conditional generator's batches ask for real attribute rows of `attribute_table`
    (trainer_module/conditions.py), as its training batches did."""
    bn_layers = [
        layer for layer in generator.layers if isinstance(layer, keras.layers.BatchNormalization)
    ]
    if not bn_layers:
        return
    saved_momentum = [layer.momentum for layer in bn_layers]
    rng = tf.random.Generator.from_seed(seed)
    try:
        for index in range(1, batches + 1):
            for layer in bn_layers:  # cumulative average: new = old * (1 - 1/i) + batch / i
                layer.momentum = 1.0 - 1.0 / index
            inputs = rng.normal([batch_size, z_dim])
            if attribute_table is not None:
                rows = conditions.random_rows(tf.constant(attribute_table), batch_size, rng)
                inputs = tf.concat([inputs, rows], axis=1)
            generator(inputs, training=True)
    finally:
        for layer, momentum in zip(bn_layers, saved_momentum):
            layer.momentum = momentum


class ExportView:
    """A copy of G that draws what an export at this moment would draw.

    Mid-training the live G's moving averages still hold much of their initial values and it
    would draw flat grey; `refresh()` copies the current weights into the copy (the moving
    average of G's weights, when the Trainer keeps one: that is what it exports) and re-estimates
    its BatchNorm statistics, leaving the live G's untouched. Sample grids and the quality probe
    look through it.
    """

    def __init__(
        self,
        generator: keras.Model,
        z_dim: int,
        average: WeightAverage | None = None,
        batches: int = 4,
        batch_size: int = 64,
        attribute_table: np.ndarray | None = None,
    ):
        self.generator = generator
        self.average = average
        self.copy = keras.models.clone_model(generator)
        self.z_dim = z_dim
        self.batches = batches
        self.batch_size = batch_size
        self.attribute_table = attribute_table  # a conditional G's real attribute rows

    def inputs(self, count: int, seed: int) -> np.ndarray:
        """Fixed inputs for the viewed G: z, and real attribute rows when it is conditional."""
        return conditions.generator_inputs(count, self.z_dim, seed, self.attribute_table)

    def refresh(self) -> keras.Model:
        self.copy.set_weights(self.generator.get_weights())
        if self.average is not None:
            self.average.copy_to(self.copy)
        refresh_batchnorm_statistics(
            self.copy,
            self.z_dim,
            batches=self.batches,
            batch_size=self.batch_size,
            attribute_table=self.attribute_table,
        )
        return self.copy
