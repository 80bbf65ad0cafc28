"""The seed's generator and discriminator (tf_keras), layer for layer, in two variants.

G: z(100) -> Dense(4*4*1024) -> Reshape -> 3 x [ConvT(k4, s2) -> BN -> act]
   with 512, 256, 128 filters -> ConvT(3, k4, s2, tanh)                   => 64x64x3
D: 64x64x3 -> Conv(64, k4, s2) -> LeakyReLU(0.2) -> 2 x [Conv(k4, s2) -> BN -> LeakyReLU(0.2)]
   with 128, 256 filters -> Conv(1, k4, s2) -> Flatten -> Dense(1, sigmoid)

Variants:
  seed  - as the article: LeakyReLU(0.2) in G too (with ReLU its generator did not learn),
          Keras' default initialisers.
  paper - as Radford et al. 2015: ReLU in G, weights ~ N(0, 0.02), BN gamma ~ N(1, 0.02).
"""
from __future__ import annotations



import tf_keras as keras
from tf_keras import layers

VARIANTS = ("seed", "paper")
DISCRIMINATOR_OUTPUTS = ("probability", "score")


def _init(variant: str) -> dict:
    """Keyword arguments for one conv/dense layer (a fresh initializer each: reusing one
    instance would give layers of the same shape identical weights)."""
    if variant == "paper":
        return {"kernel_initializer": keras.initializers.RandomNormal(0.0, 0.02)}
    return {}


def _bn(variant: str) -> layers.BatchNormalization:
    if variant == "paper":
        return layers.BatchNormalization(gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02))
    return layers.BatchNormalization()


def _check(variant: str) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")


def build_generator(z_dim: int = 100, variant: str = "seed") -> keras.Sequential:
    _check(variant)

    def upsample(filters: int) -> list:
        activation = layers.ReLU() if variant == "paper" else layers.LeakyReLU(0.2)
        return [layers.Conv2DTranspose(filters, 4, strides=2, padding="same", **_init(variant)),
                _bn(variant), activation]

    return keras.Sequential([
        keras.Input((z_dim,)),
        layers.Dense(4 * 4 * 1024, **_init(variant)),
        layers.Reshape((4, 4, 1024)),
        *upsample(512),
        *upsample(256),
        *upsample(128),
        # float32 output whatever the mixed-precision policy, so exports and losses are exact.
        layers.Conv2DTranspose(3, 4, strides=2, padding="same", **_init(variant)),
        layers.Activation("tanh", dtype="float32"),
    ], name="generator")


def build_discriminator(image_size: int = 64, variant: str = "seed",
                        output: str = "probability") -> keras.Sequential:
    """`output`: "probability" (the seed's sigmoid, for the BCE loss) or "score" (the same
    network without the sigmoid, for the least-squares loss, which needs unbounded scores)."""
    _check(variant)
    if output not in DISCRIMINATOR_OUTPUTS:
        raise ValueError(f"output must be one of {DISCRIMINATOR_OUTPUTS}, not {output!r}")

    def downsample(filters: int) -> list:
        return [layers.Conv2D(filters, 4, strides=2, padding="same", **_init(variant)),
                _bn(variant), layers.LeakyReLU(0.2)]

    return keras.Sequential([
        keras.Input((image_size, image_size, 3)),
        layers.Conv2D(64, 4, strides=2, padding="same", **_init(variant)),
        layers.LeakyReLU(0.2),
        *downsample(128),
        *downsample(256),
        layers.Conv2D(1, 4, strides=2, padding="same", **_init(variant)),
        layers.Flatten(),
        layers.Dense(1, **_init(variant)),
        layers.Activation("sigmoid" if output == "probability" else "linear", dtype="float32"),
    ], name="discriminator")
