"""The evaluator's sample grid (trainer_module.images): the export's uint8 rule, tiling, PNG."""

import numpy as np
from PIL import Image

from trainer_module.images import image_grid, save_image_grid, to_uint8


def test_to_uint8_rule():
    # round((x + 1) * 127.5), half to even, clipped: 0 -> 127.5 -> 128.
    values = np.array([-1.0, 1.0, 0.0, -2.0, 3.0, 1 / 127.5 - 1], dtype=np.float32)
    np.testing.assert_array_equal(to_uint8(values), [0, 255, 128, 0, 255, 1])
    assert to_uint8(values).dtype == np.uint8
    already = np.array([0, 7, 255], dtype=np.uint8)
    assert to_uint8(already) is already


def test_image_grid_size_and_tile_contents():
    images = np.random.default_rng(11).integers(0, 256, (7, 5, 6, 3), dtype=np.uint8)
    pixels = np.asarray(image_grid(images, columns=3))
    # 3 columns x 3 rows of 6x5 tiles with 2-px gaps between them.
    assert pixels.shape == (3 * 5 + 2 * 2, 3 * 6 + 2 * 2, 3)
    np.testing.assert_array_equal(pixels[7:12, 8:14], images[4])  # row 1, column 1
    np.testing.assert_array_equal(pixels[5:7, :], 0)
    np.testing.assert_array_equal(pixels[14:, 8:], 0)  # the unused last-row slots


def test_image_grid_accepts_float_images():
    images = np.stack([np.full((4, 4, 3), -1.0), np.full((4, 4, 3), 1.0)]).astype(np.float32)
    pixels = np.asarray(image_grid(images, columns=2))
    assert pixels.shape == (4, 10, 3)
    assert pixels[0, 0, 0] == 0 and pixels[0, 6, 0] == 255


def test_save_image_grid_writes_png(tmp_path):
    images = np.random.default_rng(12).integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
    path = tmp_path / "samples" / "grid.png"
    save_image_grid(images, str(path), columns=2)
    with Image.open(path) as loaded:
        assert loaded.format == "PNG"
        np.testing.assert_array_equal(np.asarray(loaded), np.asarray(image_grid(images, 2)))
