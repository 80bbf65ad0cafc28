"""The DCGAN as one tf_keras Model whose train_step reads like the seed's algorithm."""
from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from trainer_module.weight_average import WeightAverage


# Each loss and the discriminator output it is computed on (networks.build_discriminator).
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

    `conditioning` (networks.CONDITIONINGS; "" for none): G(z, a), and D conditioned by that
    method (networks.py). Each batch is (images, attribute codes), and the fakes are asked for
    the first half of the real batch's attributes twice, so they follow the data's combinations,
    and each pair asked alike is pushed apart by `mode_seeking_loss`. Two terms teach D to check
    the attributes, which G can then learn from D:
      - with D's attribute head (AC-GAN, as StarGAN and AttGAN use it), D learns the real faces'
        attributes, `d_attribute_weight` x `attribute_loss`, on real faces only (training it
        on fakes too is reported to hurt: it learns G's mistakes as truth), and G is scored
        on the asked ones, `g_attribute_weight` x `attribute_loss`;
      - `mismatch_weight` > 0 (a D that reads the codes): real faces with one attribute's code
        flipped are counted as fakes (`mismatched_codes`; matching-aware D, Reed et al. 2016).

    Randomness (z, label noise, label flips) comes from `self.rng`, a tf.random.Generator that
    checkpoints with the model, so a resumed run draws what the uninterrupted run would have.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, *, z_dim: int,
                 real_label: float, real_label_noise: float, fake_label_noise: float,
                 label_flip_probability: float, loss: str, train_seed: int,
                 generator_ema_decay: float, conditioning: str, d_attribute_weight: float,
                 g_attribute_weight: float, mismatch_weight: float):
        """Every setting by name and without a default: TrainerSettings holds them, once
        (build_dcgan in trainer_module/run.py); `conditioning` is "" for an unconditional D."""
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
        self.conditioning = conditioning
        self.d_attribute_weight = d_attribute_weight
        self.g_attribute_weight = g_attribute_weight
        self.mismatch_weight = mismatch_weight
        self.rng = tf.random.Generator.from_seed(train_seed)
        self.generator_average = (WeightAverage(generator, generator_ema_decay)
                                  if generator_ema_decay else None)

    def compile(self, g_optimizer: keras.optimizers.Optimizer,
                d_optimizer: keras.optimizers.Optimizer):
        super().compile()
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        # Per-example losses, averaged over the global batch: correct under any tf.distribute
        # strategy (gradients are summed across replicas).
        per_example = {"bce": keras.losses.BinaryCrossentropy,
                       "least_squares": keras.losses.MeanSquaredError}[self.loss_name]
        self.per_example_loss = per_example(reduction=keras.losses.Reduction.NONE)

    def sample_z(self, batch_size) -> tf.Tensor:
        return self.rng.normal([batch_size, self.z_dim])

    def noisy_labels(self, batch_size):
        """Real labels r + a*U(-1, 1), fake labels b*U(0, 1): the seed's noisy labels when
        r = 1, a = 0.5, b = 0.25; one-sided label smoothing when r < 1 and a = b = 0.

        With probability `label_flip_probability` an example's real and fake labels swap
        (the occasional flipping the seed mentions).
        """
        real = self.real_label + self.real_label_noise * self.rng.uniform([batch_size, 1], -1.0, 1.0)
        fake = self.fake_label_noise * self.rng.uniform([batch_size, 1], 0.0, 1.0)
        flip = self.rng.uniform([batch_size, 1]) < self.label_flip_probability
        return tf.where(flip, fake, real), tf.where(flip, real, fake)

    def average_loss(self, labels, scores) -> tf.Tensor:
        return tf.nn.compute_average_loss(self.per_example_loss(labels, scores))

    def generator_input(self, z, attributes):
        """G's input: z, followed by the codes of the attributes the faces are asked to have."""
        return z if attributes is None else tf.concat([z, attributes], axis=1)

    @property
    def reads_codes(self) -> bool:
        """Whether D takes the attribute codes as an input (a projection D)."""
        return self.conditioning not in ("", "auxiliary")

    def discriminate(self, images, attributes):
        """D's scores, and its attribute logits when it has the attribute head (else None)."""
        outputs = self.discriminator([images, attributes] if self.reads_codes else images,
                                     training=True)
        return tuple(outputs) if isinstance(outputs, (list, tuple)) else (outputs, None)

    def attribute_loss(self, attributes, logits):
        """AC-GAN's: binary cross-entropy of attribute logits against the codes (+1 present,
        -1 absent; 0, unknown, counts for nothing), per example the mean over its known
        attributes, averaged over the global batch; 0 without the auxiliary head."""
        if logits is None:
            return 0.0
        known = tf.cast(tf.not_equal(attributes, 0.0), tf.float32)
        per_attribute = tf.nn.sigmoid_cross_entropy_with_logits(
            labels=tf.cast(attributes > 0.0, tf.float32), logits=logits)
        per_example = (tf.reduce_sum(per_attribute * known, axis=1)
                       / tf.maximum(tf.reduce_sum(known, axis=1), 1.0))
        return tf.nn.compute_average_loss(per_example)

    def mode_seeking_loss(self, z, fake_images):
        """MSGAN's (Mao et al. 2019), for a conditional G, which otherwise learns to ignore z (the
        attributes alone make plausible faces): each pair of fakes asked for the same attributes
        (`asked_twice`) is pushed apart, by the reciprocal of their mean pixel distance over the
        distance of their z. 0 for an unconditional G."""
        if not self.conditioning:
            return 0.0
        half = tf.shape(z)[0] // 2
        images = tf.reduce_mean(tf.abs(fake_images[:half] - fake_images[half:2 * half]), [1, 2, 3])
        latents = tf.reduce_mean(tf.abs(z[:half] - z[half:2 * half]), axis=1)
        return tf.nn.compute_average_loss(1.0 / (images / latents + 1e-5))

    def mismatched_codes(self, attributes):
        """Each row with one attribute's code flipped (+1 <-> -1), the attribute drawn at
        random per row: a real face with these codes is a wrong match, the hardest one, as it
        differs in one attribute only (an unknown code, 0, stays 0)."""
        count = tf.shape(attributes)[1]
        picks = self.rng.uniform([tf.shape(attributes)[0]], 0, count, dtype=tf.int32)
        return attributes * (1.0 - 2.0 * tf.one_hot(picks, count))

    def mismatch_loss(self, real_images, attributes, fake_labels):
        """D's loss on real faces told a wrong attribute: they count as fakes; 0 when the
        weight is 0 or D reads no codes (an unconditional or auxiliary D)."""
        if not (self.mismatch_weight and self.reads_codes):
            return 0.0
        scores, _ = self.discriminate(real_images, self.mismatched_codes(attributes))
        return self.mismatch_weight * self.average_loss(fake_labels, scores)

    @staticmethod
    def asked_twice(attributes):
        """The batch's first half of attribute rows twice (and an odd batch's last row): the
        attributes the fakes are asked for, so each pair of fakes shares them."""
        half = tf.shape(attributes)[0] // 2
        return tf.concat([attributes[:half], attributes[:half], attributes[2 * half:]], axis=0)

    def train_step(self, batch):
        real_images, attributes = batch if self.conditioning else (batch, None)
        batch_size = tf.shape(real_images)[0]
        z = self.sample_z(batch_size)
        real_labels, fake_labels = self.noisy_labels(batch_size)
        asked = self.asked_twice(attributes) if self.conditioning else None

        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            fake_images = self.generator(self.generator_input(z, asked), training=True)
            real_scores, real_logits = self.discriminate(real_images, attributes)
            fake_scores, fake_logits = self.discriminate(fake_images, asked)
            d_loss = (self.average_loss(real_labels, real_scores) + self.average_loss(fake_labels, fake_scores)
                      + self.d_attribute_weight * self.attribute_loss(attributes, real_logits)  # real faces' attributes
                      + self.mismatch_loss(real_images, attributes, fake_labels))  # real face, wrong code: fake
            g_loss = (self.average_loss(tf.ones_like(fake_scores), fake_scores)  # G wants D to say "real"
                      + self.g_attribute_weight * self.attribute_loss(asked, fake_logits)  # with the asked attributes
                      + self.mode_seeking_loss(z, fake_images))  # conditional: and z matters

        # minimize() takes the gradients from the tape (loss-scaled under mixed_float16).
        self.d_optimizer.minimize(d_loss, self.discriminator.trainable_weights, tape=d_tape)
        self.g_optimizer.minimize(g_loss, self.generator.trainable_weights, tape=g_tape)
        if self.generator_average is not None:
            self.generator_average.update()
        return {"d_loss": d_loss, "g_loss": g_loss,
                "d_real": tf.nn.compute_average_loss(tf.reshape(real_scores, [-1])),
                "d_fake": tf.nn.compute_average_loss(tf.reshape(fake_scores, [-1]))}
