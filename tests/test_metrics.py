import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
from PIL import Image

from components.gan_evaluator.metrics import (
    FeatureStatistics,
    RandomEmbedding,
    compute_statistics,
    frechet_distance,
    image_grid,
    save_image_grid,
    to_uint8,
)


def random_spd(rng, dim):
    a = rng.standard_normal((dim, dim))
    return a @ a.T / dim + 0.1 * np.eye(dim)


def blob_images(rng, n, size=64, max_blobs=3):
    """Smooth images: a flat background plus a few soft Gaussian blobs, in [-1, 1]."""
    coords = np.linspace(-1.0, 1.0, size)
    yy, xx = np.meshgrid(coords, coords, indexing="ij")
    images = np.repeat(rng.uniform(-1, 0, (n, 1, 1, 3)), size, axis=1).repeat(size, axis=2)
    for _ in range(max_blobs):
        centre = rng.uniform(-0.7, 0.7, (n, 2, 1, 1))
        radius = rng.uniform(0.1, 0.4, (n, 1, 1))
        weight = np.exp(-((yy - centre[:, 0]) ** 2 + (xx - centre[:, 1]) ** 2) / (2 * radius**2))
        colour = rng.uniform(-1, 1, (n, 1, 1, 3))
        images = images + weight[..., None] * (colour - images)
    return np.clip(images, -1, 1).astype(np.float32)


def noise_images(rng, n, size=64):
    return rng.uniform(-1, 1, (n, size, size, 3)).astype(np.float32)


# --- frechet_distance ---------------------------------------------------------


def test_frechet_distance_is_zero_for_identical_statistics():
    rng = np.random.default_rng(0)
    mu, sigma = rng.standard_normal(8), random_spd(rng, 8)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_one_dimensional_closed_form():
    # For 1-D Gaussians: (m1 - m2)^2 + (s1 - s2)^2 with s the standard deviations.
    distance = frechet_distance([1.0], [[4.0]], [3.0], [[9.0]])
    assert distance == pytest.approx((1 - 3) ** 2 + (2 - 3) ** 2, rel=1e-10)


def test_frechet_distance_diagonal_closed_form():
    rng = np.random.default_rng(1)
    mu1, mu2 = rng.standard_normal(6), rng.standard_normal(6)
    std1, std2 = rng.uniform(0.5, 2, 6), rng.uniform(0.5, 2, 6)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((std1 - std2) ** 2)
    distance = frechet_distance(mu1, np.diag(std1**2), mu2, np.diag(std2**2))
    assert distance == pytest.approx(expected, rel=1e-9)


def frechet_distance_by_eigh(mu1, sigma1, mu2, sigma2):
    """Independent reference: Tr((S1 S2)^1/2) = Tr((A S2 A)^1/2) with A = S1^1/2, all via eigh."""
    w, v = np.linalg.eigh(sigma1)
    root1 = v @ np.diag(np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = np.clip(np.linalg.eigvalsh(root1 @ sigma2 @ root1), 0, None)
    return np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.sum(np.sqrt(inner))


def test_frechet_distance_matches_eigendecomposition_and_is_symmetric():
    rng = np.random.default_rng(2)
    mu1, mu2 = rng.standard_normal(10), rng.standard_normal(10)
    sigma1, sigma2 = random_spd(rng, 10), random_spd(rng, 10)
    forward = frechet_distance(mu1, sigma1, mu2, sigma2)
    assert forward == pytest.approx(frechet_distance_by_eigh(mu1, sigma1, mu2, sigma2), rel=1e-8)
    assert frechet_distance(mu2, sigma2, mu1, sigma1) == pytest.approx(forward, rel=1e-8)


def test_frechet_distance_is_non_negative():
    rng = np.random.default_rng(3)
    for _ in range(5):
        mu1, mu2 = rng.standard_normal(5), rng.standard_normal(5)
        assert frechet_distance(mu1, random_spd(rng, 5), mu2, random_spd(rng, 5)) >= 0.0


@pytest.mark.parametrize("seed", range(4))
def test_frechet_distance_with_fewer_samples_than_dimensions(seed):
    # Rank-7 covariances in 192 dimensions: here scipy's plain sqrtm returns
    # finite nonsense, so this exercises the offset retry.
    rng = np.random.default_rng(seed)
    a, b = np.abs(rng.standard_normal((2, 8, 192)))
    args = (a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    assert frechet_distance(*args) == pytest.approx(frechet_distance_by_eigh(*args), rel=1e-4)


def test_frechet_distance_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


# --- FeatureStatistics --------------------------------------------------------


def test_streaming_statistics_match_numpy_on_the_whole_set():
    rng = np.random.default_rng(5)
    # A large common offset would ruin naive sum-of-squares accumulation.
    features = rng.standard_normal((103, 7)) * rng.uniform(0.1, 3, 7) + 50.0
    stats = FeatureStatistics()
    start = 0
    for size in (1, 10, 0, 33, 2, 57):
        stats.update(features[start:start + size])
        start += size
    assert start == len(features)

    assert stats.count == 103
    assert stats.mean.dtype == np.float64 and stats.covariance.dtype == np.float64
    np.testing.assert_allclose(stats.mean, features.mean(axis=0), rtol=0, atol=1e-10)
    np.testing.assert_allclose(stats.covariance, np.cov(features, rowvar=False, ddof=1), rtol=0, atol=1e-10)


def test_statistics_npz_round_trip(tmp_path):
    rng = np.random.default_rng(6)
    stats = FeatureStatistics().update(rng.standard_normal((20, 4)))
    path = tmp_path / "cache" / "stats.npz"
    stats.to_npz(path)
    loaded = FeatureStatistics.from_npz(path)
    assert loaded.count == 20 and loaded.dim == 4
    np.testing.assert_array_equal(loaded.mean, stats.mean)
    np.testing.assert_array_equal(loaded.covariance, stats.covariance)

    # The loaded statistics keep accumulating as if never saved.
    more = rng.standard_normal((5, 4))
    stats.update(more)
    loaded.update(more)
    np.testing.assert_allclose(loaded.covariance, stats.covariance, atol=1e-12)


def test_statistics_need_enough_samples():
    stats = FeatureStatistics()
    with pytest.raises(ValueError):
        stats.mean
    stats.update(np.ones((1, 3)))
    with pytest.raises(ValueError):
        stats.covariance
    with pytest.raises(ValueError):
        stats.update(np.ones((2, 4)))


# --- RandomEmbedding ----------------------------------------------------------


@pytest.fixture(scope="module")
def embedding():
    return RandomEmbedding(seed=0)


def test_embedding_output_shape_dtype_and_values(embedding):
    images = blob_images(np.random.default_rng(7), 5)
    features = embedding(images)
    assert embedding.dim == 512
    assert features.shape == (5, embedding.dim)
    assert features.dtype == np.float64
    assert np.all(np.isfinite(features))
    assert np.std(features) > 0


def test_embedding_is_deterministic_per_seed(embedding):
    images = blob_images(np.random.default_rng(8), 4)
    np.testing.assert_array_equal(embedding(images), RandomEmbedding(seed=0)(images))
    assert not np.allclose(embedding(images), RandomEmbedding(seed=1)(images))


def test_embedding_is_independent_of_chunking(embedding):
    images = blob_images(np.random.default_rng(9), 7)
    np.testing.assert_allclose(
        RandomEmbedding(seed=0, batch_size=3)(images), embedding(images), rtol=1e-5, atol=1e-6
    )


def test_embedding_rescales_uint8_images(embedding):
    pixels = np.random.default_rng(13).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    scaled = pixels.astype(np.float32) / 127.5 - 1.0
    np.testing.assert_allclose(embedding(pixels), embedding(scaled), rtol=1e-6, atol=1e-6)


def test_embedding_rejects_wrong_image_size(embedding):
    with pytest.raises(ValueError):
        embedding(np.zeros((2, 32, 32, 3), np.float32))


def fid(extractor, images_a, images_b):
    a = compute_statistics(extractor, np.array_split(images_a, 2))
    b = compute_statistics(extractor, np.array_split(images_b, 2))
    return frechet_distance(a.mean, a.covariance, b.mean, b.covariance)


def test_embedding_fid_separates_distributions(embedding):
    rng = np.random.default_rng(10)
    blobs_a, blobs_b = blob_images(rng, 256), blob_images(rng, 256)
    same = fid(embedding, blobs_a, blobs_b)
    against_noise = fid(embedding, blobs_a, noise_images(rng, 256))
    dark_vs_bright = fid(embedding, blobs_a * 0.5 - 0.5, blobs_b * 0.5 + 0.5)
    assert same > 0.0
    assert same / against_noise < 0.2
    assert same / dark_vs_bright < 0.2


# --- image grid ---------------------------------------------------------------


def test_to_uint8_rule():
    # round((x + 1) * 127.5), half to even, clipped: 0 -> 127.5 -> 128.
    values = np.array([-1.0, 1.0, 0.0, -2.0, 3.0, 1 / 127.5 - 1], dtype=np.float32)
    np.testing.assert_array_equal(to_uint8(values), [0, 255, 128, 0, 255, 1])
    assert to_uint8(values).dtype == np.uint8
    already = np.array([0, 7, 255], dtype=np.uint8)
    assert to_uint8(already) is already


def test_image_grid_size_and_tile_contents():
    rng = np.random.default_rng(11)
    images = rng.integers(0, 256, (7, 5, 6, 3), dtype=np.uint8)
    grid = image_grid(images, columns=3)
    # 3 columns x 3 rows of 6x5 tiles with 2-px gaps between them.
    assert grid.size == (3 * 6 + 2 * 2, 3 * 5 + 2 * 2)
    pixels = np.asarray(grid)
    # Image 4 sits in row 1, column 1.
    np.testing.assert_array_equal(pixels[7:12, 8:14], images[4])
    np.testing.assert_array_equal(pixels[5:7, :], 0)
    # The unused last-row slots stay background.
    np.testing.assert_array_equal(pixels[14:, 8:], 0)


def test_image_grid_accepts_float_images():
    images = np.stack([np.full((4, 4, 3), -1.0), np.full((4, 4, 3), 1.0)]).astype(np.float32)
    pixels = np.asarray(image_grid(images, columns=2))
    assert pixels.shape == (4, 10, 3)
    assert pixels[0, 0, 0] == 0 and pixels[0, 6, 0] == 255


def test_save_image_grid_writes_png(tmp_path):
    images = np.random.default_rng(12).integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
    path = tmp_path / "samples" / "grid.png"
    save_image_grid(images, path, columns=2)
    with Image.open(path) as loaded:
        assert loaded.format == "PNG"
        np.testing.assert_array_equal(np.asarray(loaded), np.asarray(image_grid(images, 2)))
