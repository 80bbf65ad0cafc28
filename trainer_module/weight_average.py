"""An exponential moving average of the generator's weights: what the Trainer exports when
`generator_ema_decay` > 0.

A GAN's generator moves around the equilibrium rather than settling into it; the average of its
recent weights draws cleaner samples than any single step's (Yazıcı et al. 2019, "The Unusual
Effectiveness of Averaging in GAN Training"; StyleGAN and BigGAN export the average). The
generator keeps training on its own weights; the average only follows them.

Early weights are noise, so the decay ramps up with the number of updates n, as TensorFlow's
ExponentialMovingAverage does with `num_updates`: min(decay, (1 + n) / (10 + n)). After n updates
the average spans roughly the last tenth of the run until the decay itself takes over.
"""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

# The averages are the same on every replica (the weights they follow are): under a
# tf.distribute strategy the first replica's update is kept, as Keras does for BatchNorm.
_ONE_PER_REPLICA_SET = dict(
    trainable=False,
    aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
    synchronization=tf.VariableSynchronization.ON_WRITE,
)


class WeightAverage(tf.Module):
    """The moving average of `model`'s trainable weights; a checkpointable tf.Module."""

    def __init__(self, model: keras.Model, decay: float):
        super().__init__(name="weight_average")
        if not 0.0 < decay < 1.0:
            raise ValueError(f"the weight average's decay must be in (0, 1), not {decay}")
        self.model = model
        self.decay = decay
        self.updates = tf.Variable(0, dtype=tf.int64, name="updates", **_ONE_PER_REPLICA_SET)
        self.averages = [
            tf.Variable(weight, name="average", **_ONE_PER_REPLICA_SET)
            for weight in model.trainable_weights
        ]

    def current_decay(self) -> tf.Tensor:
        n = tf.cast(self.updates, tf.float32)
        return tf.minimum(self.decay, (1.0 + n) / (10.0 + n))

    def update(self) -> None:
        """average <- d * average + (1 - d) * weight, after each step of the model."""
        self.updates.assign_add(1)
        decay = self.current_decay()
        for average, weight in zip(self.averages, self.model.trainable_weights):
            average.assign(decay * average + (1.0 - decay) * weight)

    def copy_to(self, model: keras.Model) -> None:
        """Puts the averages into `model`'s trainable weights (a copy of the averaged model,
        or the model itself once training is over)."""
        for weight, average in zip(model.trainable_weights, self.averages):
            weight.assign(average)
