"""How a transformed image is stored and how the model sees it.

Transform stores each 64x64 face as a lossless PNG of its uint8 pixels: at most ~12.5 KB per
example whatever the content (a float32 tensor took 49 KB), readable by any image tool, and the
PNG header carries the shape. The Trainer scales the decoded pixels to the generator's [-1, 1]
and the evaluator scores the decoded uint8 pixels as they are, so both see the same pixels.
One rounding rule (round half to even, clipped to [0, 255]) makes uint8 pixels everywhere:
Transform's resized images and the exported generator's output.
"""

from __future__ import annotations

import tensorflow as tf


def quantize(pixels: tf.Tensor) -> tf.Tensor:
    """Float pixels in [0, 255] -> uint8: rounded, clipped."""
    return tf.cast(tf.clip_by_value(tf.round(pixels), 0.0, 255.0), tf.uint8)


def to_uint8(images: tf.Tensor) -> tf.Tensor:
    """The model's [-1, 1] -> uint8: the inverse of `to_model_range`, with `quantize`'s rule."""
    return quantize((images + 1.0) * 127.5)


def to_model_range(pixels: tf.Tensor) -> tf.Tensor:
    """uint8 pixels -> float32 in [-1, 1], the range of the generator's tanh output."""
    return tf.cast(pixels, tf.float32) / 127.5 - 1.0


def decode_png(encoded: tf.Tensor) -> tf.Tensor:
    """PNG bytes [batch] -> uint8 [batch, height, width, 3]; every image must have one size."""
    return tf.map_fn(
        lambda png: tf.io.decode_png(png, channels=3),
        encoded,
        fn_output_signature=tf.TensorSpec([None, None, 3], tf.uint8),
    )
