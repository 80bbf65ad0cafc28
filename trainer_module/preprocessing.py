"""Transform's preprocessing_fn: decode, centre-crop, resize the face images to 64x64 PNGs, and
pass the configured attributes on.

The same graph (through TFTransformOutput) feeds the Trainer and the evaluator, so both see real
images exactly as training did. The scaling to [-1, 1] happens as the Trainer reads them
(trainer_module/pixels.py): storing uint8 PNGs instead of float32 takes a quarter of the bytes.
No analyzers: every step is fixed, none depends on the data.
"""

from __future__ import annotations

import typing

import tensorflow as tf

from common import ATTRIBUTE_PREFIX, IMAGE_KEY, UNKNOWN_ATTRIBUTE
from pipeline_config import CropMode
from trainer_module import pixels

# Crop before resizing, by the convention of the work whose numbers one compares with:
#   squash         no crop: the whole 178x218 image resized (the seed article's plain resize)
#   center_square  the centred min(height, width) square, 178x178 on CelebA (the default)
#   center_108     centred 108x108 (DCGAN-tensorflow)
#   center_140     centred 140x140 (TTUR's CelebA FIDs)
#   center_160     centred 160x160 (compare_gan)
CROP_MODES = typing.get_args(CropMode)
# zlib level of the stored PNGs: lossless at every level; 1 trades a little size for speed
# (docs/transform.md, "Storage", has the measurement).
PNG_COMPRESSION = 1


def _as_vector(encoded) -> tf.Tensor:
    """Transform hands a batch: [batch, 1] dense, or a SparseTensor for a variable-length
    feature."""
    if isinstance(encoded, tf.SparseTensor):
        encoded = tf.sparse.to_dense(encoded, default_value="")
    return tf.reshape(encoded, [-1])


def crop_side(crop_mode: str, height, width):
    """Side of the centred square `crop_mode` cuts (never more than the image), None to squash."""
    if crop_mode not in CROP_MODES:
        raise ValueError(f"crop_mode must be one of {CROP_MODES}, not {crop_mode!r}")
    if crop_mode == "squash":
        return None
    shortest = tf.minimum(height, width)
    if crop_mode == "center_square":
        return shortest
    return tf.minimum(int(crop_mode.split("_")[1]), shortest)


def decode_crop_resize(encoded: tf.Tensor, crop_mode: str, image_size: int) -> tf.Tensor:
    """One encoded image -> float32 [image_size, image_size, 3] in [0, 255].

    The crop of `crop_mode`, then an antialiased bilinear resize (as Pillow's BILINEAR does when
    downscaling).
    """
    image = tf.cond(
        tf.io.is_jpeg(encoded),
        # libjpeg's accurate integer DCT, as Pillow uses: TF's default fast DCT is ~1 level off.
        lambda: tf.io.decode_jpeg(encoded, channels=3, dct_method="INTEGER_ACCURATE"),
        lambda: tf.io.decode_image(encoded, channels=3, expand_animations=False),
    )
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    side = crop_side(crop_mode, height, width)
    if side is not None:
        image = tf.image.crop_to_bounding_box(
            image, (height - side) // 2, (width - side) // 2, side, side
        )
    image = tf.image.resize(image, [image_size, image_size], method="bilinear", antialias=True)
    return tf.reshape(image, [image_size, image_size, 3])


def face_png(encoded: tf.Tensor, crop_mode: str, image_size: int) -> tf.Tensor:
    """One stored face: the image decoded, cropped, resized, rounded to uint8 and encoded as a
    lossless PNG at zlib level PNG_COMPRESSION."""
    return tf.io.encode_png(
        pixels.quantize(decode_crop_resize(encoded, crop_mode, image_size)),
        compression=PNG_COMPRESSION,
    )


def attribute_features(inputs: dict, names) -> dict:
    """attr_<Name> int64 [batch] for each name: 1 present, 0 absent, -1 unknown.

    CelebAExampleGen writes an attribute only where list_attr_celeba.txt has the image's row,
    so Transform hands each as a SparseTensor [batch, 0 or 1]; a missing value becomes -1 here
    rather than a guess. Passed through under their own names, the attributes are named in the
    transform output's schema, and every reader stacks them in the order of the config's list.
    """
    features = {}
    for name in names:
        key = ATTRIBUTE_PREFIX + name
        if key not in inputs:
            raise ValueError(
                f"attribute {name!r}: the examples have no feature {key} (the "
                "attribute names of list_attr_celeba.txt, e.g. Smiling)"
            )
        value = inputs[key]
        if isinstance(value, tf.SparseTensor):
            one_column = tf.SparseTensor(
                value.indices, value.values, tf.stack([value.dense_shape[0], 1])
            )
            value = tf.sparse.to_dense(one_column, default_value=UNKNOWN_ATTRIBUTE)
        features[key] = tf.reshape(tf.cast(value, tf.int64), [-1])
    return features


def preprocessing_fn(inputs, custom_config):
    """tf.Examples from CelebAExampleGen -> {'image': PNG bytes [batch] of uint8 64x64x3 faces,
    'attr_<Name>': int64 [batch] for each configured attribute}.

    custom_config: PipelineConfig.transform_custom_config(), {"crop_mode", "image_size",
    "attributes"}.
    """
    attributes = attribute_features(inputs, custom_config["attributes"])  # names checked first
    crop_mode, image_size = custom_config["crop_mode"], int(custom_config["image_size"])
    pngs = tf.map_fn(
        lambda encoded: face_png(encoded, crop_mode, image_size),
        _as_vector(inputs[IMAGE_KEY]),
        fn_output_signature=tf.string,
    )
    return {IMAGE_KEY: pngs, **attributes}
