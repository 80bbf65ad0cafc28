"""The attribute ruler: a small CNN that tells, for each configured CelebA attribute, whether a
64x64 face has it. Trained on the real training split, scored on the real test split.

It measures generated faces the way a person would ask about them ("does this face smile?"),
so its accuracy on real test images is reported next to everything measured with it: a generated
attribute can be told no better than the ruler tells a real one. Labels are 1 / 0, with -1
(unknown) left out of the loss and the scores.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import tensorflow as tf
import tf_keras as keras

from common import graph_function

UNKNOWN = -1


@dataclasses.dataclass(frozen=True)
class ClassifierSettings:
    """Chosen on the built-in faces (docs/attributes.md has the measurement)."""

    epochs: int = 8
    batch_size: int = 32
    learning_rate: float = 1e-3
    seed: int = 0


def build_classifier(image_size: int, num_attributes: int) -> keras.Model:
    """Four stride-2 convolutions (32 to 256 filters), then one logit per attribute from the
    whole 4x4 (at 64 px) feature map: the faces are aligned, so where a feature is (a mouth, a
    hat) is part of what tells it, which global pooling would throw away. Input: uint8-range
    floats [0, 255]. No batch norm: trained for a few hundred steps only, its moving
    statistics would not settle, and scoring uses them."""
    layers = keras.layers
    inputs = keras.Input((image_size, image_size, 3))
    x = layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    for filters in (32, 64, 128, 256):
        x = layers.Conv2D(filters, 4, strides=2, padding="same")(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Dropout(0.3)(layers.Flatten()(x))
    return keras.Model(inputs, layers.Dense(num_attributes)(x), name="attribute_classifier")


def masked_loss(labels: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """Binary cross-entropy over the known labels only."""
    known = tf.cast(labels != UNKNOWN, tf.float32)
    losses = tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.cast(tf.maximum(labels, 0), tf.float32), logits=logits
    )
    return tf.reduce_sum(losses * known) / tf.maximum(tf.reduce_sum(known), 1.0)


class AttributeClassifier:
    """predict() gives 1/0 decisions for uint8 images [N, H, W, 3]."""

    def __init__(self, model: keras.Model, names: Sequence[str]):
        self.model = model
        self.names = tuple(names)

    def probabilities(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        images = np.asarray(images, np.float32)
        return np.concatenate(
            [
                tf.sigmoid(self.model(images[i : i + batch_size], training=False)).numpy()
                for i in range(0, len(images), batch_size)
            ]
            or [np.zeros((0, len(self.names)), np.float32)]
        )

    def predict(self, images: np.ndarray) -> np.ndarray:
        return (self.probabilities(images) > 0.5).astype(np.int64)


def train_classifier(
    images: np.ndarray,
    labels: np.ndarray,
    names: Sequence[str],
    settings: ClassifierSettings = ClassifierSettings(),
) -> AttributeClassifier:
    """Adam on the masked loss, `settings.epochs` passes over the shuffled images."""
    images, labels = np.asarray(images, np.float32), np.asarray(labels, np.int64)
    if len(images) < settings.batch_size:
        raise ValueError(
            f"{len(images)} training images for the attribute classifier; it "
            f"needs at least one batch of {settings.batch_size}"
        )
    keras.utils.set_random_seed(settings.seed)
    model = build_classifier(images.shape[1], labels.shape[1])
    optimizer = keras.optimizers.Adam(settings.learning_rate)

    @graph_function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = masked_loss(y, model(x, training=True))
        optimizer.apply_gradients(
            zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
        )
        return loss

    rng = np.random.default_rng(settings.seed)
    for _ in range(settings.epochs):
        order = rng.permutation(len(images))
        for start in range(0, len(order) - settings.batch_size + 1, settings.batch_size):
            batch = order[start : start + settings.batch_size]
            step(tf.constant(images[batch]), tf.constant(labels[batch]))
    return AttributeClassifier(model, names)


def agreement(decisions: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per attribute, the fraction of known labels the decisions match (NaN: none known)."""
    known = labels != UNKNOWN
    matches = ((decisions == labels) & known).sum(axis=0)
    counts = known.sum(axis=0)
    return np.where(counts > 0, matches / np.maximum(counts, 1), np.nan)


def present_rate(labels: np.ndarray) -> np.ndarray:
    """Per attribute, the fraction of known labels (or decisions) that say present."""
    known = labels != UNKNOWN
    return ((labels == 1) & known).sum(axis=0) / np.maximum(known.sum(axis=0), 1)


def majority_rate(labels: np.ndarray) -> np.ndarray:
    """Per attribute, the accuracy of always answering the commoner value: the floor."""
    present = present_rate(labels)
    return np.maximum(present, 1 - present)
