"""Precision/recall (k = 3) and density/coverage (k = 5) against direct loops over samples."""

import numpy as np
import pytest

from metrics.prdc import kth_neighbour_radii, manifold_metrics, squared_distances


def radius(points, i, k):
    distances = sorted(np.linalg.norm(points - points[i], axis=1))
    return distances[k]  # distances[0] is the point itself


def prdc_by_loops(real, fake, pr_k=3, dc_k=5):
    """Each definition written out sample by sample, with Euclidean (not squared) distances."""
    pr_real = [radius(real, i, pr_k) for i in range(len(real))]
    pr_fake = [radius(fake, j, pr_k) for j in range(len(fake))]
    dc_real = [radius(real, i, dc_k) for i in range(len(real))]
    dist = np.array([[np.linalg.norm(r - f) for f in fake] for r in real])
    precision = np.mean(
        [any(dist[i, j] <= pr_real[i] for i in range(len(real))) for j in range(len(fake))]
    )
    recall = np.mean(
        [any(dist[i, j] <= pr_fake[j] for j in range(len(fake))) for i in range(len(real))]
    )
    density = (
        np.mean([sum(dist[i, j] < dc_real[i] for i in range(len(real))) for j in range(len(fake))])
        / dc_k
    )
    coverage = np.mean([dist[i].min() < dc_real[i] for i in range(len(real))])
    return {"precision": precision, "recall": recall, "density": density, "coverage": coverage}


@pytest.mark.parametrize("shift", [0.0, 0.7])
def test_matches_the_definitions(shift):
    rng = np.random.default_rng(0)
    real = rng.standard_normal((40, 5))
    fake = rng.standard_normal((30, 5)) * 0.8 + shift
    got = manifold_metrics(real, fake)
    expected = prdc_by_loops(real, fake)
    assert got == pytest.approx(expected, abs=1e-12)


def test_identical_sets_are_perfect_and_disjoint_sets_score_zero():
    real = np.random.default_rng(1).standard_normal((50, 4))
    assert manifold_metrics(real, real.copy()) == pytest.approx(
        {"precision": 1.0, "recall": 1.0, "density": 1.0, "coverage": 1.0}, abs=0.05
    )
    far = manifold_metrics(real, real + 100.0)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_radii_skip_the_point_itself():
    points = np.array([[0.0], [1.0], [3.0], [7.0]])
    np.testing.assert_allclose(
        kth_neighbour_radii(squared_distances(points, points), 1), [1.0, 1.0, 4.0, 16.0]
    )
    with pytest.raises(ValueError, match="more than 4"):
        kth_neighbour_radii(squared_distances(points, points), 4)
