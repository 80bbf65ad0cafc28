"""The seed's generator and discriminator (tf_keras), layer for layer, in two variants.

G: z(100) -> Dense(4*4*1024) -> Reshape -> 3 x [ConvT(k4, s2) -> BN -> act]
   with 512, 256, 128 filters -> ConvT(3, k4, s2, tanh)                   => 64x64x3
D: 64x64x3 -> Conv(64, k4, s2) -> LeakyReLU(0.2) -> 2 x [Conv(k4, s2) -> BN -> LeakyReLU(0.2)]
   with 128, 256 filters -> Conv(1, k4, s2) -> Flatten -> Dense(1, sigmoid)

Other image sizes (powers of two from 32) change the depth only, as the common 128-px DCGAN
does: every doubling adds one block to each network, G's next with half the filters
(128: 512, 256, 128, 64), D's next with twice (128: 128, 256, 512); 64 gives the seed's networks.
The widths are settings (`filters`: G's first feature maps, the seed's 1024 unless told, the
Trainer's default narrower (settings.py); D's first convolution, 64), as PyTorch's DCGAN example
has ngf and ndf.

Variants:
  seed  - as the article: LeakyReLU(0.2) in G too (with ReLU its generator did not learn),
          Keras' default initialisers.
  paper - as Radford et al. 2015: ReLU in G, weights ~ N(0, 0.02), BN gamma ~ N(1, 0.02).
"""

from __future__ import annotations

import typing

import tensorflow as tf
import tf_keras as keras
from tf_keras import layers

from pipeline_config import Conditioning, Variant

VARIANTS = typing.get_args(Variant)
DISCRIMINATOR_OUTPUTS = ("probability", "score")
CONDITIONINGS = typing.get_args(Conditioning)


def _init(variant: str) -> dict:
    """Keyword arguments for one conv/dense layer (a fresh initializer each: reusing one
    instance would give layers of the same shape identical weights)."""
    if variant == "paper":
        return {"kernel_initializer": keras.initializers.RandomNormal(0.0, 0.02)}
    return {}


def _bn(variant: str) -> layers.BatchNormalization:
    if variant == "paper":
        return layers.BatchNormalization(
            gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02)
        )
    return layers.BatchNormalization()


def _check(variant: str) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")


def check_widths(image_size: int, generator_filters: int, discriminator_filters: int) -> None:
    """Both networks' widths, as the settings are built."""
    _check_generator_filters(generator_filters, image_size)
    _check_discriminator_filters(discriminator_filters)


def _check_generator_filters(filters: int, image_size: int) -> None:
    """G's blocks halve its filters: at least one must be left for its last block."""
    least = 1 << blocks(image_size)
    if filters < least:
        raise ValueError(
            f"generator_filters must be at least {least} at {image_size} px (each "
            f"of G's {blocks(image_size)} blocks halves them), not {filters}"
        )


def _check_discriminator_filters(filters: int) -> None:
    if filters < 1:
        raise ValueError(f"discriminator_filters must be at least 1, not {filters}")


def blocks(image_size: int) -> int:
    """Stride-2 BN blocks of G (4 px up to image_size / 2); D has one fewer: 3 and 2 at 64."""
    if image_size < 32 or image_size & (image_size - 1):
        raise ValueError(
            f"image_size must be a power of two from 32 (64: the seed's networks), not {image_size}"
        )
    return image_size.bit_length() - 4  # log2(image_size / 4) - 1


def build_generator(
    *, z_dim: int, variant: str, image_size: int, attributes: int, filters: int
) -> keras.Model:
    """Every argument by name and without a default: the settings hold them, once (build_dcgan
    in trainer_module/run.py; the seed's recipe: trainer_module/seed_recipe.py).

    `attributes` > 0: a conditional G(z, a), whose input is z followed by the attribute codes
    (trainer_module/conditions.py). The codes reach the first layer with z, as in the
    conditional GAN of Mirza & Osindero, and every upsampling block through its batch
    normalisation (AttributeModulation): with the first layer alone, G learned to ignore most
    requests (docs/attributes.md)."""
    _check(variant)
    _check_generator_filters(filters, image_size)

    def upsample(block: int) -> list:
        activation = layers.ReLU() if variant == "paper" else layers.LeakyReLU(0.2)
        return [
            layers.Conv2DTranspose(
                filters >> (block + 1), 4, strides=2, padding="same", **_init(variant)
            ),
            _bn(variant),
            activation,
        ]

    start = [layers.Dense(4 * 4 * filters, **_init(variant)), layers.Reshape((4, 4, filters))]
    # float32 output whatever the mixed-precision policy, so exports and losses are exact.
    end = [
        layers.Conv2DTranspose(3, 4, strides=2, padding="same", **_init(variant)),
        layers.Activation("tanh", dtype="float32"),
    ]
    if not attributes:
        return keras.Sequential(
            [
                keras.Input((z_dim,)),
                *start,
                *[layer for block in range(blocks(image_size)) for layer in upsample(block)],
                *end,
            ],
            name="generator",
        )

    inputs = keras.Input((z_dim + attributes,))
    codes = inputs[:, z_dim:]
    maps = _apply(start, inputs)
    for block in range(blocks(image_size)):
        convolution, normalisation, activation = upsample(block)
        maps = activation(AttributeModulation()([normalisation(convolution(maps)), codes]))
    return keras.Model(inputs, _apply(end, maps), name="generator")


class AttributeModulation(layers.Layer):
    """The attribute part of conditional batch normalisation (de Vries et al. 2017; the
    generator of the projection discriminator's paper, Miyato & Koyama 2018): after a block's
    BatchNormalization, each channel is scaled by 1 + gamma(a) and shifted by beta(a), both
    linear in the attribute codes a. Both start at zero, so each block starts as the
    unconditional G's block and learns from there how each attribute shapes it."""

    def build(self, input_shape):
        maps_shape, codes_shape = input_shape
        channels, attributes = int(maps_shape[-1]), int(codes_shape[-1])
        self.scale = self.add_weight("scale", (attributes, channels), initializer="zeros")
        self.shift = self.add_weight("shift", (attributes, channels), initializer="zeros")

    def call(self, inputs):
        maps, codes = inputs
        codes = tf.cast(codes, maps.dtype)
        gamma = tf.matmul(codes, tf.cast(self.scale, maps.dtype))[:, None, None, :]
        beta = tf.matmul(codes, tf.cast(self.shift, maps.dtype))[:, None, None, :]
        return maps * (1.0 + gamma) + beta


class MinibatchStddev(layers.Layer):
    """The feature maps plus one plane holding their standard deviation over the batch,
    averaged (ProGAN, Karras et al. 2018): it lets D see how varied a batch is.

    For a conditional D: its batches hold a different attribute combination in nearly every
    example, so from single faces it cannot catch a G that draws one face per combination and
    ignores z; the spread of a batch shows it (docs/attributes.md has what was measured)."""

    def call(self, maps):
        spread = tf.reduce_mean(
            tf.sqrt(tf.math.reduce_variance(tf.cast(maps, tf.float32), axis=0) + 1e-8)
        )
        plane = tf.fill(tf.concat([tf.shape(maps)[:-1], [1]], axis=0), spread)
        return tf.concat([maps, tf.cast(plane, maps.dtype)], axis=-1)


def build_discriminator(
    *,
    image_size: int,
    variant: str,
    output: str,
    attributes: int,
    conditioning: str,
    filters: int,
    attribute_head: bool,
) -> keras.Model:
    """Every argument by name and without a default, as build_generator's.

    `output`: "probability" (the seed's sigmoid, for the BCE loss) or "score" (the same
    network without the sigmoid, for the least-squares loss, which needs unbounded scores).

    `attributes` > 0: a conditional D, which sees the batch's spread before its score
    (MinibatchStddev), by `conditioning`:
      projection - D(x, a), called on [images, attribute codes]: the seed's D plus the inner
                   product of a learned embedding of a with D's last feature maps (Miyato &
                   Koyama 2018, with the maps flattened instead of pooled; a multi-hot a sums
                   one embedding per attribute, signed by its code);
      auxiliary  - D(x): the attributes reach D only through its attribute head (below).
    `attribute_head` (always with "auxiliary"): D also returns one logit per attribute from its
    last feature maps, [score, logits] (AC-GAN, Odena et al. 2017; as StarGAN's and AttGAN's D,
    from the maps whole): a classifier that the loss teaches the real faces' attributes
    (dcgan.py).
    """
    _check(variant)
    if output not in DISCRIMINATOR_OUTPUTS:
        raise ValueError(f"output must be one of {DISCRIMINATOR_OUTPUTS}, not {output!r}")
    if attributes and conditioning not in CONDITIONINGS:
        raise ValueError(f"conditioning must be one of {CONDITIONINGS}, not {conditioning!r}")
    _check_discriminator_filters(filters)

    def downsample(block: int) -> list:
        return [
            layers.Conv2D(filters << (block + 1), 4, strides=2, padding="same", **_init(variant)),
            _bn(variant),
            layers.LeakyReLU(0.2),
        ]

    features = [  # the seed's D up to its last feature maps
        layers.Conv2D(filters, 4, strides=2, padding="same", **_init(variant)),
        layers.LeakyReLU(0.2),
        *[layer for block in range(blocks(image_size) - 1) for layer in downsample(block)],
    ]
    score = [
        *([MinibatchStddev()] if attributes else []),
        layers.Conv2D(1, 4, strides=2, padding="same", **_init(variant)),
        layers.Flatten(),
        layers.Dense(1, **_init(variant)),
    ]
    squash = layers.Activation("sigmoid" if output == "probability" else "linear", dtype="float32")
    if not attributes:
        return keras.Sequential(
            [keras.Input((image_size, image_size, 3)), *features, *score, squash],
            name="discriminator",
        )

    image = keras.Input((image_size, image_size, 3))
    codes = keras.Input((attributes,)) if conditioning == "projection" else None
    inputs = [image, codes] if conditioning == "projection" else image
    hidden = _apply(features, image)
    scores = _apply(score, hidden)
    # The attribute parts read D's last feature maps whole, position by position: averaged
    # over space (as the projection paper and AC-GAN pool them), batch-normalised maps differ
    # too little from face to face for a head or an embedding to learn from within a short
    # run (docs/attributes.md has the measurements).
    flat = layers.Flatten()(hidden)
    if conditioning == "projection":
        # Zero at the start: D begins unconditional and learns each attribute's template.
        embedded = layers.Dense(
            flat.shape[-1], use_bias=False, name="attribute_embedding", kernel_initializer="zeros"
        )(codes)
        scores = layers.Add()([scores, layers.Dot(axes=1)([embedded, flat])])
    if not (attribute_head or conditioning == "auxiliary"):
        return keras.Model(inputs, squash(scores), name="discriminator")
    logits = layers.Dense(attributes, name="attribute_logits", dtype="float32", **_init(variant))(
        flat
    )
    return keras.Model(inputs, [squash(scores), logits], name="discriminator")


def _apply(layer_list: list, tensor):
    """The layers applied in order, as a Sequential model would (for functional models)."""
    for layer in layer_list:
        tensor = layer(tensor)
    return tensor
