"""One file's bytes -> the RGB image bytes to store, or Rejected with the reason.

Pillow reads only the header before the size checks, so a decompression bomb is refused before
a single pixel is decoded. Every image that passes is fully decoded once here: a broken file is
set aside by name instead of failing Transform later.

Colour: any mode other than RGB (grayscale, CMYK, palette, with alpha) is converted to RGB with
Pillow and re-encoded in its own format (JPEG at quality 95, PNG lossless). The stored image is
then always 3-channel, which the schema checks, and Transform and the evaluator see the colours
Pillow decodes; CMYK in particular is left to one decoder instead of two. An alpha channel is
dropped (the colours under it are kept). 16-bit grayscale is scaled to 8 bits (x / 257):
Pillow's own conversion clips it, so a mid-grey face would come out white.

Orientation: a JPEG whose EXIF orientation tag says the camera was turned is stored upright, as
a viewer shows it, since TensorFlow's decoders ignore the tag; the re-encoded file carries no tag.
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from components.celeba_example_gen import reasons
from components.celeba_example_gen.policy import IngestionPolicy
from components.celeba_example_gen.reasons import Rejected

JPEG_QUALITY = 95
EXIF_ORIENTATION = 0x0112  # the tag's number; 1 is upright
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")  # how Pillow opens 16-bit grey


@dataclasses.dataclass(frozen=True)
class CheckedImage:
    encoded: bytes  # what goes into the `image` feature
    height: int
    width: int
    channels: int
    converted_from: str | None  # the Pillow mode it was converted from, None if stored as read
    exif_orientation: int | None = None  # the EXIF orientation it was turned upright from


def check_image(data: bytes, policy: IngestionPolicy) -> CheckedImage:
    """Raises Rejected with the first check that fails, in the order of `reasons`."""
    if not data:
        raise Rejected(reasons.ZERO_BYTES, "the file is empty")
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as err:
        raise Rejected(reasons.TOO_MANY_PIXELS, str(err)) from err
    except UnidentifiedImageError as err:
        raise Rejected(reasons.NOT_AN_IMAGE, "no image format recognises the header") from err
    except Exception as err:  # a recognised header that Pillow cannot parse
        raise Rejected(reasons.UNDECODABLE, f"{type(err).__name__}: {err}") from err
    with image:
        _check_header(image, policy)
        _decode(image)
        converted_from = None if image.mode == "RGB" else image.mode
        orientation = image.getexif().get(EXIF_ORIENTATION, 1)
        if converted_from or orientation != 1:
            stored = _upright_rgb(image)
            data = _encoded(stored, image.format)
        else:
            stored = image
        return CheckedImage(
            data,
            stored.height,
            stored.width,
            channels=3,
            converted_from=converted_from,
            exif_orientation=None if orientation == 1 else orientation,
        )


def _check_header(image: Image.Image, policy: IngestionPolicy) -> None:
    if image.format not in policy.allowed_image_formats:
        raise Rejected(
            reasons.FORMAT_NOT_ALLOWED,
            f"{image.format}; allowed: {', '.join(policy.allowed_image_formats)}",
        )
    width, height = image.size
    if width * height > policy.max_image_pixels:
        raise Rejected(
            reasons.TOO_MANY_PIXELS,
            f"{width}x{height} is over the limit of {policy.max_image_pixels} pixels",
        )
    if min(width, height) < policy.min_image_side:
        raise Rejected(
            reasons.TOO_SMALL,
            f"{width}x{height}; each side must be at least {policy.min_image_side}",
        )


def _decode(image: Image.Image) -> None:
    try:
        image.load()
    except Exception as err:  # Pillow raises OSError, SyntaxError, ValueError... for bad data
        truncated = isinstance(err, EOFError) or "truncated" in str(err)
        raise Rejected(
            reasons.TRUNCATED if truncated else reasons.UNDECODABLE, f"{type(err).__name__}: {err}"
        ) from err


def _upright_rgb(image: Image.Image) -> Image.Image:
    """The RGB pixels a viewer shows: the EXIF orientation applied, 16-bit grey scaled to 8 bits."""
    image = ImageOps.exif_transpose(image)
    if image.mode in SIXTEEN_BIT_MODES:
        grey = (np.asarray(image, np.int64) + 128) // 257
        image = Image.fromarray(grey.clip(0, 255).astype(np.uint8), "L")
    return image.convert("RGB")


def _encoded(image: Image.Image, image_format: str) -> bytes:
    buffer = io.BytesIO()
    options = {"quality": JPEG_QUALITY} if image_format == "JPEG" else {}
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()
