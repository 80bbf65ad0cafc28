"""The conditional DCGAN: G(z, a) draws faces with the attributes a asked for, and D checks them."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from trainer_module.dcgan import DCGAN


class ConditionalDCGAN(DCGAN):
    """The DCGAN's three terms, plus those that make G follow the attributes it is asked for.

    `conditioning` (networks.CONDITIONINGS): how D is conditioned (networks.py). Each batch is
    (images, attribute codes), and the fakes are asked for the first half of the real batch's
    attributes twice, so they follow the data's combinations, and each pair asked alike is
    pushed apart by `mode_seeking_loss`. Two terms teach D to check the attributes, which G can
    then learn from D:
      - with D's attribute head (AC-GAN, as StarGAN and AttGAN use it), D learns the real faces'
        attributes, `d_attribute_weight` x `attribute_loss`, on real faces only (training it
        on fakes too is reported to hurt: it learns G's mistakes as truth), and G is scored
        on the asked ones, `g_attribute_weight` x `attribute_loss`;
      - `mismatch_weight` > 0 (a D that reads the codes): real faces with one attribute's code
        flipped are counted as fakes (`mismatched_codes`; matching-aware D, Reed et al. 2016).
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        *,
        conditioning: str,
        d_attribute_weight: float,
        g_attribute_weight: float,
        mismatch_weight: float,
        **dcgan_settings,
    ):
        super().__init__(generator, discriminator, **dcgan_settings)
        self.conditioning = conditioning
        self.d_attribute_weight = d_attribute_weight
        self.g_attribute_weight = g_attribute_weight
        self.mismatch_weight = mismatch_weight

    def train_step(self, batch):
        """The DCGAN's step (DCGAN.train_step: the same simultaneous update) with the attribute
        terms: D also learns the real faces' attributes and calls a real face with a wrong code
        fake; G is also scored on the attributes it was asked for, and on z mattering."""
        real_images, attributes = batch
        batch_size = tf.shape(real_images)[0]
        z = self.sample_z(batch_size)
        real_labels, fake_labels = self.noisy_labels(batch_size)
        asked = self.asked_twice(attributes)
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            fake_images = self.generator(tf.concat([z, asked], axis=1), training=True)
            real_scores, real_logits = self.discriminate(real_images, attributes)
            fake_scores, fake_logits = self.discriminate(fake_images, asked)
            d_loss = (
                self.average_loss(real_labels, real_scores)
                + self.average_loss(fake_labels, fake_scores)
                + self.d_attribute_weight * self.attribute_loss(attributes, real_logits)
                + self.mismatch_loss(real_images, attributes, fake_labels)
            )
            g_loss = (
                self.average_loss(tf.ones_like(fake_scores), fake_scores)
                + self.g_attribute_weight * self.attribute_loss(asked, fake_logits)
                + self.mode_seeking_loss(z, fake_images)
            )
        self.update(d_tape, d_loss, g_tape, g_loss)
        return self.step_logs(d_loss, g_loss, real_scores, fake_scores)

    @property
    def reads_codes(self) -> bool:
        """Whether D takes the attribute codes as an input (a projection D)."""
        return self.conditioning != "auxiliary"

    def discriminate(self, images, attributes):
        """D's scores, and its attribute logits when it has the attribute head (else None)."""
        outputs = self.discriminator(
            [images, attributes] if self.reads_codes else images, training=True
        )
        return tuple(outputs) if isinstance(outputs, (list, tuple)) else (outputs, None)

    def attribute_loss(self, attributes, logits):
        """AC-GAN's: binary cross-entropy of attribute logits against the codes (+1 present,
        -1 absent; 0, unknown, counts for nothing), per example the mean over its known
        attributes, averaged over the global batch; 0 without the attribute head."""
        if logits is None:
            return 0.0
        known = tf.cast(tf.not_equal(attributes, 0.0), tf.float32)
        per_attribute = tf.nn.sigmoid_cross_entropy_with_logits(
            labels=tf.cast(attributes > 0.0, tf.float32), logits=logits
        )
        per_example = tf.reduce_sum(per_attribute * known, axis=1) / tf.maximum(
            tf.reduce_sum(known, axis=1), 1.0
        )
        return tf.nn.compute_average_loss(per_example)

    @staticmethod
    def mode_seeking_loss(z, fake_images):
        """MSGAN's (Mao et al. 2019), as a conditional G otherwise learns to ignore z (the
        attributes alone make plausible faces): each pair of fakes asked for the same attributes
        (`asked_twice`) is pushed apart, by the reciprocal of their mean pixel distance over the
        distance of their z."""
        half = tf.shape(z)[0] // 2
        images = tf.reduce_mean(
            tf.abs(fake_images[:half] - fake_images[half : 2 * half]), [1, 2, 3]
        )
        latents = tf.reduce_mean(tf.abs(z[:half] - z[half : 2 * half]), axis=1)
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
        weight is 0 or D reads no codes (an auxiliary D)."""
        if not (self.mismatch_weight and self.reads_codes):
            return 0.0
        scores, _ = self.discriminate(real_images, self.mismatched_codes(attributes))
        return self.mismatch_weight * self.average_loss(fake_labels, scores)

    @staticmethod
    def asked_twice(attributes):
        """The batch's first half of attribute rows twice (and an odd batch's last row): the
        attributes the fakes are asked for, so each pair of fakes shares them."""
        half = tf.shape(attributes)[0] // 2
        return tf.concat([attributes[:half], attributes[:half], attributes[2 * half :]], axis=0)
