"""preprocessing_fn against a Pillow/numpy reference of decode -> centre crop -> resize, and the
stored form: lossless uint8 PNGs that the Trainer scales to [-1, 1]."""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from pipeline_config import PipelineConfig
from trainer_module import pixels
from trainer_module.preprocessing import CROP_MODES, preprocessing_fn

# TF's antialiased bilinear and Pillow's BILINEAR use the same triangle filter. Pillow rounds to
# 8 bits between its horizontal and vertical passes, so at hard edges they differ by a few grey
# levels (measured: at most 5.4 here); on average by well under one level.
TOLERANCE_LEVELS = 6.0
MEAN_TOLERANCE_LEVELS = 0.5


def _jpeg(array: np.ndarray, fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt, quality=95)
    return buffer.getvalue()


def _reference(encoded: bytes, crop_mode: str, size: int) -> np.ndarray:
    """Pillow: the centred crop each mode names, then Pillow's (antialiased) BILINEAR resize."""
    image = Image.open(io.BytesIO(encoded)).convert("RGB")
    if crop_mode != "squash":
        shortest = min(image.width, image.height)
        side = shortest if crop_mode == "center_square" else min(int(crop_mode[7:]), shortest)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side))
    image = image.resize((size, size), Image.BILINEAR)
    return np.asarray(image, dtype=np.float32)


def transform(images, overrides=None) -> np.ndarray:
    """preprocessing_fn's PNGs under the default config with `overrides`, decoded: uint8
    [batch, size, size, 3]."""
    pngs = preprocessing_fn({"image": images}, transform_config(overrides))["image"]
    assert pngs.dtype == tf.string
    return pixels.decode_png(pngs).numpy()


def transform_config(overrides=None) -> dict:
    """The default config's; no attributes unless asked (the image tests feed images only)."""
    return {**PipelineConfig().transform_custom_config(), "attributes": [], **(overrides or {})}


def sparse_attribute(values_by_row: dict, batch: int) -> tf.SparseTensor:
    """As Transform hands CelebAExampleGen's attr_<Name>: a value only where the row had one."""
    rows = sorted(values_by_row)
    return tf.SparseTensor(
        [[row, 0] for row in rows] or tf.zeros([0, 2], tf.int64),
        tf.constant([values_by_row[row] for row in rows], tf.int64),
        [batch, 1 if rows else 0],
    )


def test_attributes_pass_through_under_their_names_with_unknown_as_minus_one():
    faces = tf.constant([[_jpeg(np.full((80, 80, 3), 100, np.uint8))]] * 3)
    inputs = {
        "image": faces,
        "attr_Smiling": sparse_attribute({0: 1, 1: 0}, 3),
        "attr_Male": sparse_attribute({0: 0, 1: 1}, 3),
        "attr_Bangs": sparse_attribute({}, 3),
    }  # no image of the batch has the value
    out = preprocessing_fn(inputs, transform_config({"attributes": ["Smiling", "Male", "Bangs"]}))
    assert sorted(out) == ["attr_Bangs", "attr_Male", "attr_Smiling", "image"]
    assert out["attr_Smiling"].numpy().tolist() == [1, 0, -1]  # the third has no row
    assert out["attr_Male"].numpy().tolist() == [0, 1, -1]
    assert out["attr_Bangs"].numpy().tolist() == [-1, -1, -1]
    assert out["attr_Smiling"].dtype == tf.int64


def test_an_attribute_the_examples_lack_or_celeba_does_not_name_is_a_clear_error():
    with pytest.raises(
        ValueError, match="attribute 'Smiling': the examples have no feature attr_Smiling"
    ):
        preprocessing_fn(
            {"image": tf.constant([[b""]])}, transform_config({"attributes": ["Smiling"]})
        )
    with pytest.raises(ValueError, match="attributes: Wings not among CelebA's 40"):
        PipelineConfig(attributes=("Smiling", "Wings")).transform_custom_config()


def test_the_default_attributes_are_the_ones_the_built_in_set_draws():
    from data.synthetic_celeba import CONTROLLED_ATTRIBUTES

    assert PipelineConfig().attributes == CONTROLLED_ATTRIBUTES


@pytest.fixture(scope="module")
def faces():
    rng = np.random.default_rng(0)
    # Smooth content (like faces) plus a sharp edge: 178 wide x 218 high, CelebA's size.
    y, x = np.mgrid[0:218, 0:178]
    images = []
    for i in range(3):
        base = np.stack([(x * (i + 1)) % 256, (y * 2) % 256, ((x + y) * 3) % 256], axis=-1)
        base[60:150, 40:130] = rng.integers(0, 256, 3)
        images.append(base.astype(np.uint8))
    return [_jpeg(image) for image in images]


@pytest.mark.parametrize("crop_mode", CROP_MODES)
def test_every_crop_mode_matches_the_pillow_reference(faces, crop_mode):
    out = transform(tf.constant([[f] for f in faces]), {"crop_mode": crop_mode, "image_size": 64})
    assert out.shape == (3, 64, 64, 3) and out.dtype == np.uint8
    for i, encoded in enumerate(faces):
        diff = np.abs(out[i] - _reference(encoded, crop_mode, 64))
        assert diff.max() <= TOLERANCE_LEVELS, diff.max()
        assert diff.mean() < MEAN_TOLERANCE_LEVELS, diff.mean()


def test_crop_modes_cut_different_regions(faces):
    outputs = {
        mode: transform(tf.constant([[faces[0]]]), {"crop_mode": mode}).astype(float)
        for mode in CROP_MODES
    }
    for a in CROP_MODES:
        for b in CROP_MODES:
            if a < b:
                assert np.abs(outputs[a] - outputs[b]).mean() > 1.0, (a, b)


def test_unknown_crop_mode_is_refused(faces):
    with pytest.raises(ValueError, match="crop_mode must be one of"):
        preprocessing_fn(
            {"image": tf.constant([[faces[0]]])}, transform_config({"crop_mode": "center_99"})
        )


def test_sparse_input_and_png_give_same_pixels(faces):
    array = np.asarray(Image.open(io.BytesIO(faces[1])))
    png = _jpeg(array, "PNG")
    sparse = tf.sparse.from_dense(tf.constant([[faces[1]], [png]]))
    out = transform(sparse).astype(int)
    assert out.shape == (2, 64, 64, 3)
    # The PNG holds exactly the JPEG's decoded pixels, so the two rows must agree closely.
    assert np.abs(out[0] - out[1]).max() <= 1


def test_grayscale_input_becomes_three_channels():
    gray = _jpeg(np.full((218, 178), 200, np.uint8))
    out = transform(tf.constant([[gray]]))
    assert out.shape == (1, 64, 64, 3)
    np.testing.assert_allclose(out, 200, atol=2)


def test_128_pixel_output():
    gradient = np.tile(np.linspace(0, 255, 178, dtype=np.uint8)[None, :, None], (218, 1, 3))
    out = transform(tf.constant([[_jpeg(gradient)]]), {"image_size": 128})
    assert out.shape == (1, 128, 128, 3)


def test_stored_pngs_are_lossless_and_scale_to_the_model_range(faces):
    """The PNG round trip keeps every pixel; the Trainer's scaling maps 0..255 onto [-1, 1]."""
    images = pixels.quantize(tf.constant(_reference(faces[0], "center_square", 64))[None])
    decoded = pixels.decode_png(tf.map_fn(tf.io.encode_png, images, fn_output_signature=tf.string))
    np.testing.assert_array_equal(decoded.numpy(), images.numpy())
    scaled = pixels.to_model_range(tf.constant([0, 1, 128, 255], tf.uint8)).numpy()
    np.testing.assert_allclose(scaled, [-1.0, 1 / 127.5 - 1, 128 / 127.5 - 1, 1.0], atol=1e-6)
    # And back, with the export's rule: every level survives [-1, 1] exactly.
    levels = tf.range(256, dtype=tf.int32)
    back = pixels.to_uint8(pixels.to_model_range(tf.cast(levels, tf.uint8)))
    np.testing.assert_array_equal(back.numpy(), np.arange(256))


def test_each_stored_example_is_at_most_16_kb():
    """Noise is the worst case for PNG: it must still fit the 16 KB per example budget."""
    noise = np.random.default_rng(1).integers(0, 256, (218, 178, 3), np.uint8)
    png = preprocessing_fn({"image": tf.constant([[_jpeg(noise, "PNG")]])}, transform_config())[
        "image"
    ][0]
    example = tf.train.Example(
        features=tf.train.Features(
            feature={"image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[png.numpy()]))}
        )
    )
    assert len(example.SerializeToString()) <= 16 * 1024
