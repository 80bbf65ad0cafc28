"""Transform's preprocessing_fn: decode, centre-crop, resize and scale the face images.

The same graph (through TFTransformOutput) feeds the Trainer and the evaluator, so both see real
images exactly as training did.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tensorflow as tf  # noqa: E402

IMAGE_KEY = "image"
DEFAULT_CROP_SIZE = 178
DEFAULT_IMAGE_SIZE = 64


def _as_vector(encoded) -> tf.Tensor:
    """Transform hands a batch: [batch, 1] dense, or a SparseTensor for a variable-length feature."""
    if isinstance(encoded, tf.SparseTensor):
        encoded = tf.sparse.to_dense(encoded, default_value="")
    return tf.reshape(encoded, [-1])


def decode_crop_resize(encoded: tf.Tensor, crop_size: int, image_size: int) -> tf.Tensor:
    """One encoded image -> float32 [image_size, image_size, 3] in [0, 255].

    A centred square of side min(crop_size, height, width) is cut out, then resized with an
    antialiased bilinear filter (as Pillow's BILINEAR does when downscaling).
    """
    image = tf.cond(
        tf.io.is_jpeg(encoded),
        # libjpeg's accurate integer DCT, as Pillow uses: TF's default fast DCT is ~1 level off.
        lambda: tf.io.decode_jpeg(encoded, channels=3, dct_method="INTEGER_ACCURATE"),
        lambda: tf.io.decode_image(encoded, channels=3, expand_animations=False))
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    side = tf.minimum(crop_size, tf.minimum(height, width))
    image = tf.image.crop_to_bounding_box(image, (height - side) // 2, (width - side) // 2,
                                          side, side)
    image = tf.image.resize(image, [image_size, image_size], method="bilinear", antialias=True)
    return tf.reshape(image, [image_size, image_size, 3])


def scale_to_unit_range(pixels: tf.Tensor) -> tf.Tensor:
    """[0, 255] -> [-1, 1], the range of the generator's tanh output."""
    return tf.clip_by_value(pixels / 127.5 - 1.0, -1.0, 1.0)


def preprocessing_fn(inputs, custom_config=None):
    """tf.Examples from CelebAExampleGen -> {'image': float32 [batch, 64, 64, 3] in [-1, 1]}."""
    custom_config = custom_config or {}
    crop_size = int(custom_config.get("crop_size", DEFAULT_CROP_SIZE))
    image_size = int(custom_config.get("image_size", DEFAULT_IMAGE_SIZE))
    images = tf.map_fn(
        lambda encoded: decode_crop_resize(encoded, crop_size, image_size),
        _as_vector(inputs[IMAGE_KEY]),
        fn_output_signature=tf.TensorSpec([image_size, image_size, 3], tf.float32))
    return {IMAGE_KEY: scale_to_unit_range(images)}
