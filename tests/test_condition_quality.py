"""Quality per condition, on a generator whose answer is known: faces whose brightness follows
the 'Bright' code match the real bright faces as well as its faces in general match real faces;
a generator that ignores the code does not."""

import numpy as np
import pytest

from components.gan_evaluator.attributes import request_grid
from components.gan_evaluator.condition_quality import condition_fd, measured_conditions
from trainer_module import conditions

Z_DIM = 4
NAMES = ("Bright", "Rare")


def faces(level: np.ndarray, texture: np.ndarray) -> np.ndarray:
    """uint8 [N, 8, 8, 3]: channel 0 at `level`, channel 1 at `texture`, channel 2 mid-grey."""
    image = np.empty((len(level), 8, 8, 3), np.uint8)
    image[..., 0] = np.clip(level, 0, 255)[:, None, None]
    image[..., 1] = np.clip(texture, 0, 255)[:, None, None]
    image[..., 2] = 128
    return image


def embed(images: np.ndarray) -> np.ndarray:
    """Two features: the mean of channels 0 and 1, in units of 40 levels."""
    return images[..., :2].mean(axis=(1, 2)).astype(np.float64) / 40.0


def obeying(inputs: np.ndarray) -> np.ndarray:
    return faces(128 + 60 * inputs[:, Z_DIM] + 12 * inputs[:, 0], 128 + 40 * inputs[:, 1])


def ignoring(inputs: np.ndarray) -> np.ndarray:
    return faces(128 + 60 * np.sign(inputs[:, 0]) + 12 * inputs[:, 2], 128 + 40 * inputs[:, 1])


def real_set(count: int = 3000):
    rng = np.random.default_rng(5)
    bright = rng.random(count) < 0.5
    rare = np.arange(count) < 2  # two faces, no more than the features: too few
    images = faces(
        128 + 60 * np.where(bright, 1, -1) + 12 * rng.standard_normal(count),
        128 + 40 * rng.standard_normal(count),
    )
    return images, np.stack([bright, rare], axis=1).astype(np.int64)


@pytest.mark.parametrize("generate, near_one", [(obeying, True), (ignoring, False)])
def test_asking_costs_nothing_when_the_generator_obeys_and_much_when_it_ignores(generate, near_one):
    images, labels = real_set()
    table = conditions.attribute_codes(labels).numpy()
    inputs = conditions.generator_inputs(2000, Z_DIM, seed=1, table=table)
    asked = request_grid(inputs[:, :Z_DIM], table)  # as the evaluator asks for fidelity
    m = condition_fd(
        embed(images),
        labels,
        embed(generate(inputs)),
        embed(generate(asked)).reshape(len(NAMES), 2, len(inputs), -1),
        NAMES,
    )
    for side in ("present", "absent"):
        ratio = m[f"attributes/fd_{side}_ratio/Bright"]
        assert (ratio < 3) if near_one else (ratio > 10), (side, ratio)
        assert m[f"attributes/fd_{side}/Bright"] >= 0
    assert np.isnan(m["attributes/fd_present/Rare"])  # a handful of real faces: not measured
    assert measured_conditions(labels, 2).tolist() == [[True, True], [True, False]]
    assert np.isfinite(m["attributes/fd_absent/Rare"])
    measured = [
        m[f"attributes/fd_{side}_ratio/{name}"]
        for side in ("present", "absent")
        for name in NAMES
        if np.isfinite(m[f"attributes/fd_{side}_ratio/{name}"])
    ]
    assert m["attributes/fd_ratio_mean"] == pytest.approx(np.mean(measured))
