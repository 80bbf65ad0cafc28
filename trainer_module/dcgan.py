"""The DCGAN as one tf_keras Model whose train_step reads like the seed's algorithm."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from trainer_module.weight_average import WeightAverage

# Each loss and the discriminator output it is computed on (networks.build_discriminator).
# (pipeline_config.Loss declares the names; tests/test_settings.py checks both name the same
# losses.)
LOSSES = {"bce": "probability", "least_squares": "score"}


def discriminator_output(loss: str) -> str:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {tuple(LOSSES)}, not {loss!r}")
    return LOSSES[loss]


class DCGAN(keras.Model):
    """Generator and discriminator trained together, with the seed's noisy labels.

    `loss`: "bce" (the seed's and the DCGAN paper's binary cross-entropy on D's probabilities) or
    "least_squares" (LSGAN, Mao et al. 2017: squared distance of D's unbounded score to the
    label; its gradients do not vanish when D is sure, as the sigmoid's do).

    `generator_ema_decay` > 0 keeps `generator_average`, a moving average of G's weights updated
    after every G step (trainer_module/weight_average.py); 0 keeps none.

    Randomness (z, label noise, label flips) comes from `self.rng`, a tf.random.Generator that
    checkpoints with the model, so a resumed run draws what the uninterrupted run would have.
    The conditional model, G(z, a) with its attribute terms, is ConditionalDCGAN
    (trainer_module/conditional_dcgan.py).
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        *,
        z_dim: int,
        real_label: float,
        real_label_noise: float,
        fake_label_noise: float,
        label_flip_probability: float,
        loss: str,
        train_seed: int,
        generator_ema_decay: float,
    ):
        """Every setting by name and without a default: TrainerSettings holds them, once
        (build_dcgan in trainer_module/run.py)."""
        super().__init__()
        discriminator_output(loss)  # checks the name
        self.generator = generator
        self.discriminator = discriminator
        self.z_dim = z_dim
        self.real_label = real_label
        self.real_label_noise = real_label_noise
        self.fake_label_noise = fake_label_noise
        self.label_flip_probability = label_flip_probability
        self.loss_name = loss
        self.rng = tf.random.Generator.from_seed(train_seed)
        self.generator_average = (
            WeightAverage(generator, generator_ema_decay) if generator_ema_decay else None
        )

    def compile(
        self, g_optimizer: keras.optimizers.Optimizer, d_optimizer: keras.optimizers.Optimizer
    ):
        super().compile()
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        # Per-example losses, averaged over the global batch: correct under any tf.distribute
        # strategy (gradients are summed across replicas).
        per_example = {
            "bce": keras.losses.BinaryCrossentropy,
            "least_squares": keras.losses.MeanSquaredError,
        }[self.loss_name]
        self.per_example_loss = per_example(reduction=keras.losses.Reduction.NONE)

    def sample_z(self, batch_size) -> tf.Tensor:
        return self.rng.normal([batch_size, self.z_dim])

    def noisy_labels(self, batch_size):
        """Real labels r + a*U(-1, 1), fake labels b*U(0, 1): the seed's noisy labels when
        r = 1, a = 0.5, b = 0.25; one-sided label smoothing when r < 1 and a = b = 0.

        With probability `label_flip_probability` an example's real and fake labels swap
        (the occasional flipping the seed mentions).
        """
        real = self.real_label + self.real_label_noise * self.rng.uniform(
            [batch_size, 1], -1.0, 1.0
        )
        fake = self.fake_label_noise * self.rng.uniform([batch_size, 1], 0.0, 1.0)
        flip = self.rng.uniform([batch_size, 1]) < self.label_flip_probability
        return tf.where(flip, fake, real), tf.where(flip, real, fake)

    def average_loss(self, labels, scores) -> tf.Tensor:
        return tf.nn.compute_average_loss(self.per_example_loss(labels, scores))

    def train_step(self, real_images):
        """The seed's algorithm, one batch: D learns to call real faces real and G's fakes
        fake (with noisy labels), G learns to make D call its fakes real.

        The update is simultaneous, as TensorFlow's DCGAN tutorial makes it: one forward pass,
        both gradients taken from it, so G's gradient goes through D as it was before D's step
        (the seed's Keras loop and PyTorch's dcgan/main.py step D first and run D again for G).
        """
        batch_size = tf.shape(real_images)[0]
        z = self.sample_z(batch_size)
        real_labels, fake_labels = self.noisy_labels(batch_size)
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            fake_images = self.generator(z, training=True)
            real_scores = self.discriminator(real_images, training=True)
            fake_scores = self.discriminator(fake_images, training=True)
            d_loss = self.average_loss(real_labels, real_scores) + self.average_loss(
                fake_labels, fake_scores
            )
            g_loss = self.average_loss(tf.ones_like(fake_scores), fake_scores)
        self.update(d_tape, d_loss, g_tape, g_loss)
        return self.step_logs(d_loss, g_loss, real_scores, fake_scores)

    def update(self, d_tape, d_loss, g_tape, g_loss) -> None:
        """D's step, G's step, then G's weight average. minimize() takes each gradient from
        its tape (loss-scaled under mixed_float16)."""
        self.d_optimizer.minimize(d_loss, self.discriminator.trainable_weights, tape=d_tape)
        self.g_optimizer.minimize(g_loss, self.generator.trainable_weights, tape=g_tape)
        if self.generator_average is not None:
            self.generator_average.update()

    @staticmethod
    def step_logs(d_loss, g_loss, real_scores, fake_scores) -> dict:
        """The losses, and D's mean output on real and on fake faces."""
        return {
            "d_loss": d_loss,
            "g_loss": g_loss,
            "d_real": tf.nn.compute_average_loss(tf.reshape(real_scores, [-1])),
            "d_fake": tf.nn.compute_average_loss(tf.reshape(fake_scores, [-1])),
        }
