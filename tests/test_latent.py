"""Latent walks: slerp's ends and norms, the straight line it replaces, and the walk's frames."""

import numpy as np
import pytest

from dcgan_faces import latent
from trainer_module import images


@pytest.fixture
def pair():
    """Two random latent points, b scaled onto a's sphere."""
    a, b = images.latent_points(2, 100, seed=4, dtype=np.float64)
    return a, b * np.linalg.norm(a) / np.linalg.norm(b)


def test_slerp_starts_and_ends_on_the_points(pair):
    a, b = pair
    ends = latent.slerp(a, b, [0.0, 1.0])
    np.testing.assert_allclose(ends[0], a, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ends[1], b, rtol=0, atol=1e-12)
    assert ends.dtype == np.float64


def test_slerp_keeps_the_norm_where_the_straight_line_dips_inside(pair):
    a, b = pair
    t = np.linspace(0, 1, 11)
    np.testing.assert_allclose(
        np.linalg.norm(latent.slerp(a, b, t), axis=1), np.linalg.norm(a), rtol=1e-12
    )
    # Two random directions in 100-d are nearly orthogonal: the midpoint is ~1/sqrt(2) short.
    midpoint = np.linalg.norm(latent.lerp(a, b, 0.5)) / np.linalg.norm(a)
    assert 0.6 < midpoint < 0.8


def test_slerp_moves_at_constant_angular_speed(pair):
    a, b = pair
    points = latent.slerp(a, b, np.linspace(0, 1, 5))
    unit = points / np.linalg.norm(points, axis=1, keepdims=True)
    angles = np.arccos(np.clip(np.sum(unit[:-1] * unit[1:], axis=1), -1, 1))
    np.testing.assert_allclose(angles, angles[0], rtol=1e-9)


def test_slerp_of_unequal_norms_blends_the_norms(pair):
    a, b = pair
    b = 2 * b
    norms = np.linalg.norm(latent.slerp(a, b, np.linspace(0, 1, 9)), axis=1)
    assert norms[0] == pytest.approx(np.linalg.norm(a)) and norms[-1] == pytest.approx(2 * norms[0])
    assert np.all(norms > 0.5 * norms[0])


def test_parallel_points_fall_back_to_the_straight_line():
    a = np.ones(8)
    np.testing.assert_allclose(latent.slerp(a, 3 * a, 0.5), 2 * a)
    np.testing.assert_allclose(latent.slerp(np.zeros(8), a, 0.25), 0.25 * a)


def test_a_walk_has_steps_frames_per_segment_and_ends_on_the_last_point():
    points = images.latent_points(4, 10, seed=0, dtype=np.float64)
    path = latent.walk(points, steps=5)
    assert path.shape == (3 * 5 + 1, 10)
    np.testing.assert_allclose(path[[0, 5, 10, 15]], points, atol=1e-12)


def test_a_looped_walk_returns_towards_the_first_point_without_repeating_it():
    points = images.latent_points(3, 10, seed=1, dtype=np.float64)
    path = latent.walk(points, steps=4, loop=True)
    assert path.shape == (3 * 4, 10)
    np.testing.assert_allclose(path[[0, 4, 8]], points, atol=1e-12)
    np.testing.assert_allclose(path[-1], latent.slerp(points[2], points[0], 0.75), atol=1e-12)


def test_the_linear_walk_is_straight():
    points = images.latent_points(2, 10, seed=2, dtype=np.float64)
    np.testing.assert_allclose(latent.walk(points, 2, method="linear")[1], points.mean(axis=0))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"points": np.zeros((1, 4)), "steps": 3}, "at least 2 points"),
        ({"points": np.zeros((3, 4)), "steps": 0}, "steps must be at least 1"),
        ({"points": np.zeros((3, 4)), "steps": 3, "method": "cubic"}, "method must be one of"),
    ],
)
def test_bad_walks_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        latent.walk(**kwargs)
