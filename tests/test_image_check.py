"""One image file's bytes as ingestion stores them (components/celeba_example_gen/image_check.py):
the kinds of PNG and JPEG a user's folder may hold besides CelebA's own RGB JPEGs, each stored
as the RGB a viewer shows, and said so. Pure function, no Beam."""

import io

import numpy as np
import pytest
from PIL import Image

from components.celeba_example_gen.image_check import EXIF_ORIENTATION, check_image
from components.celeba_example_gen.policy import IngestionPolicy
from pipeline_config import PipelineConfig

POLICY = IngestionPolicy.of(PipelineConfig())
HEIGHT, WIDTH = 218, 178  # CelebA's aligned images


def face_pixels() -> np.ndarray:
    """A picture whose corners differ, so a turn shows: red left half, blue top half."""
    pixels = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    pixels[:, : WIDTH // 2, 0] = 200
    pixels[: HEIGHT // 2, :, 2] = 250
    return pixels


def encoded(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def stored_pixels(checked) -> np.ndarray:
    stored = Image.open(io.BytesIO(checked.encoded))
    assert stored.mode == "RGB" and not stored.getexif().get(EXIF_ORIENTATION)
    return np.asarray(stored)


@pytest.mark.parametrize("mode", ["RGBA", "P", "LA", "L", "CMYK"])
def test_a_png_or_jpeg_in_another_mode_is_stored_as_its_rgb(mode):
    source = Image.fromarray(face_pixels()).convert(mode)
    image_format = "JPEG" if mode in ("L", "CMYK") else "PNG"
    checked = check_image(encoded(source, image_format), POLICY)
    assert checked.converted_from == mode and checked.exif_orientation is None
    assert (checked.height, checked.width, checked.channels) == (HEIGHT, WIDTH, 3)
    expected = np.asarray(Image.open(io.BytesIO(encoded(source, image_format))).convert("RGB"))
    tolerance = 3 if image_format == "JPEG" else 0  # re-encoded at quality 95; PNG is exact
    assert np.abs(stored_pixels(checked).astype(int) - expected.astype(int)).mean() <= tolerance


def test_a_16_bit_grey_png_is_scaled_to_8_bits_not_clipped_to_white():
    grey = np.asarray(Image.fromarray(face_pixels()).convert("L"))  # 0..250
    sixteen = Image.fromarray(grey.astype(np.uint16) * 257)  # opened as I;16
    checked = check_image(encoded(sixteen, "PNG"), POLICY)
    assert checked.converted_from in ("I;16", "I")
    stored = stored_pixels(checked)
    assert np.array_equal(stored[..., 0], grey) and np.array_equal(stored[..., 2], grey)


@pytest.mark.parametrize(
    "orientation, turn",
    [
        (3, lambda p: np.rot90(p, 2)),  # upside down
        (6, lambda p: np.rot90(p, -1)),  # the camera turned: shown turned 90 degrees clockwise
        (8, lambda p: np.rot90(p, 1)),  # ... and counter-clockwise
        (2, lambda p: p[:, ::-1]),  # mirrored
    ],
)
def test_an_exif_orientation_is_applied_and_said(orientation, turn):
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    data = encoded(Image.fromarray(face_pixels()), "JPEG", quality=95, exif=exif.tobytes())
    checked = check_image(data, POLICY)
    assert checked.exif_orientation == orientation and checked.converted_from is None
    upright = turn(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    assert (checked.height, checked.width) == upright.shape[:2]
    assert np.abs(stored_pixels(checked).astype(int) - upright.astype(int)).mean() < 3


def test_an_upright_rgb_jpeg_is_stored_byte_for_byte():
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 1
    data = encoded(Image.fromarray(face_pixels()), "JPEG", quality=90, exif=exif.tobytes())
    checked = check_image(data, POLICY)
    assert checked.encoded == data
    assert checked.converted_from is None and checked.exif_orientation is None
