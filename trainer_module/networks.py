"""The seed's generator and discriminator (tf_keras), layer for layer.

G: z(100) -> Dense(4*4*1024) -> Reshape -> 3 x [ConvT(k4, s2) -> BN -> LeakyReLU(0.2)]
   with 512, 256, 128 filters -> ConvT(3, k4, s2, tanh)                   => 64x64x3
D: 64x64x3 -> Conv(64, k4, s2) -> LeakyReLU(0.2) -> 2 x [Conv(k4, s2) -> BN -> LeakyReLU(0.2)]
   with 128, 256 filters -> Conv(1, k4, s2) -> Flatten -> Dense(1, sigmoid)
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tf_keras as keras  # noqa: E402
from tf_keras import layers  # noqa: E402


def _upsample_block(filters: int) -> list:
    return [layers.Conv2DTranspose(filters, 4, strides=2, padding="same"),
            layers.BatchNormalization(), layers.LeakyReLU(0.2)]


def _downsample_block(filters: int) -> list:
    return [layers.Conv2D(filters, 4, strides=2, padding="same"),
            layers.BatchNormalization(), layers.LeakyReLU(0.2)]


def build_generator(z_dim: int = 100) -> keras.Sequential:
    return keras.Sequential([
        keras.Input((z_dim,)),
        layers.Dense(4 * 4 * 1024),
        layers.Reshape((4, 4, 1024)),
        *_upsample_block(512),
        *_upsample_block(256),
        *_upsample_block(128),
        layers.Conv2DTranspose(3, 4, strides=2, padding="same", activation="tanh"),
    ], name="generator")


def build_discriminator(image_size: int = 64) -> keras.Sequential:
    return keras.Sequential([
        keras.Input((image_size, image_size, 3)),
        layers.Conv2D(64, 4, strides=2, padding="same"),
        layers.LeakyReLU(0.2),
        *_downsample_block(128),
        *_downsample_block(256),
        layers.Conv2D(1, 4, strides=2, padding="same"),
        layers.Flatten(),
        layers.Dense(1, activation="sigmoid"),
    ], name="discriminator")
