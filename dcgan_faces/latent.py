"""Walks between latent points, in float64 numpy.

Spherical interpolation is the default walk: z ~ N(0, I) in 100 dimensions lies close to the
sphere of radius sqrt(100), and a straight line between two such points dips well inside it
(its midpoint has about 1/sqrt(2) of the norm), where the generator never saw an input. slerp
follows the great circle instead, so points of equal norm keep that norm all the way.
"""

from __future__ import annotations

import numpy as np

METHODS = ("slerp", "linear")
_PARALLEL = 1e-7  # |sin(angle)| below this: the great circle is undefined, walk straight


def lerp(a, b, t) -> np.ndarray:
    """Points on the straight line from a (t = 0) to b (t = 1); t a number or an array [T]."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    t = np.asarray(t, np.float64)[..., None]
    return (1.0 - t) * a + t * b


def slerp(a, b, t) -> np.ndarray:
    """Points on the great circle from a (t = 0) to b (t = 1); t a number or an array [T].

    Exactly a and b at the ends. Parallel or opposite vectors (no unique great circle) fall back
    to the straight line.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    t = np.asarray(t, np.float64)
    norms = np.linalg.norm(a) * np.linalg.norm(b)
    if norms == 0.0:
        return lerp(a, b, t)
    angle = np.arccos(np.clip(np.dot(a, b) / norms, -1.0, 1.0))
    sin_angle = np.sin(angle)
    if abs(sin_angle) < _PARALLEL:
        return lerp(a, b, t)
    t = t[..., None]
    return (np.sin((1.0 - t) * angle) * a + np.sin(t * angle) * b) / sin_angle


def walk(points, steps: int, method: str = "slerp", loop: bool = False) -> np.ndarray:
    """A path through `points` [K, d], `steps` frames from each point to the next.

    Returns [(K - 1) * steps + 1, d] points, ending on the last point, or [K * steps, d] with
    `loop`, which walks back to the first point and leaves out the repeated first frame.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    points = np.asarray(points, np.float64)
    if points.ndim != 2 or len(points) < 2:
        raise ValueError(f"a walk needs at least 2 points [K, d], got shape {points.shape}")
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    interpolate = slerp if method == "slerp" else lerp
    stops = np.concatenate([points, points[:1]]) if loop else points
    t = np.arange(steps) / steps
    path = [interpolate(start, end, t) for start, end in zip(stops[:-1], stops[1:])]
    if not loop:
        path.append(points[-1:])
    return np.concatenate(path)
