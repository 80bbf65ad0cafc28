"""Feature extractors: the random embedding, and both Inception loaders on tiny stand-in files.

The real Inception files cannot be downloaded here; the stand-ins have the same contract (TTUR:
a GraphDef entered at Mul:0 with pool_3:0 out; Keras: an .h5 of the architecture's weights).
"""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras
from gan_evaluator_testing import blob_images, blob_pixels, noise_images

from metrics import extractors
from metrics.fid import fid_from_statistics
from metrics.sample_sets import summarize

# --- random_embedding ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def embedding():
    return extractors.RandomEmbedding(seed=0)


def test_embedding_output_shape_dtype_and_values(embedding):
    features = embedding(blob_images(np.random.default_rng(7), 5))
    assert embedding.dim == 512 and features.shape == (5, 512)
    assert features.dtype == np.float64 and np.all(np.isfinite(features)) and np.std(features) > 0


def test_embedding_is_deterministic_per_seed(embedding):
    images = blob_pixels(np.random.default_rng(8), 4)
    np.testing.assert_array_equal(embedding(images), extractors.RandomEmbedding(seed=0)(images))
    assert not np.allclose(embedding(images), extractors.RandomEmbedding(seed=1)(images))
    assert embedding.fingerprint() == extractors.RandomEmbedding(seed=0).fingerprint()
    assert embedding.fingerprint() != extractors.RandomEmbedding(seed=1).fingerprint()


def test_embedding_is_independent_of_chunking(embedding):
    images = blob_pixels(np.random.default_rng(9), 7)
    np.testing.assert_allclose(
        extractors.RandomEmbedding(seed=0, batch_size=3)(images),
        embedding(images),
        rtol=1e-5,
        atol=1e-6,
    )


def test_embedding_reads_uint8_and_unit_range_floats_alike(embedding):
    pixels = np.random.default_rng(13).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    scaled = pixels.astype(np.float32) / 127.5 - 1.0
    np.testing.assert_allclose(embedding(pixels), embedding(scaled), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "shape, message",
    [
        ((2, 8, 8, 3), "square RGB images of at least 16 px"),
        ((2, 64, 32, 3), "square RGB images of at least 16 px"),
        ((2, 64, 64, 1), r"expected images \[N, H, W, 3\]"),
    ],
)
def test_embedding_rejects_images_it_cannot_embed(embedding, shape, message):
    with pytest.raises(ValueError, match=message):
        embedding(np.zeros(shape, np.uint8))


def test_embedding_takes_128_px_images_into_the_same_512_features(embedding):
    pixels = np.random.default_rng(14).integers(0, 256, (3, 128, 128, 3), dtype=np.uint8)
    features = embedding(pixels)
    assert features.shape == (3, 512) and np.isfinite(features).all()
    assert not np.allclose(features, embedding(pixels[:, ::2, ::2]))  # not resized to 64


def test_embedding_fid_separates_distributions(embedding):
    rng = np.random.default_rng(10)

    def fid(a, b):
        real, fake = (
            summarize(np.array_split(x, 2), [embedding], 10).features[embedding.name]
            for x in (a, b)
        )
        return fid_from_statistics(real.statistics, fake.statistics)

    blobs_a, blobs_b = blob_images(rng, 256), blob_images(rng, 256)
    same = fid(blobs_a, blobs_b)
    assert 0.0 < same < 0.2 * fid(blobs_a, noise_images(rng, 256))
    assert same < 0.2 * fid(blobs_a * 0.5 - 0.5, blobs_b * 0.5 + 0.5)


# --- resizing as TF 1 did -------------------------------------------------------------------


def resize_bilinear_tf1(image, size):
    """TF 1's ResizeBilinear written out: source = destination * in / out, no half-pixel shift."""
    height, width = image.shape[:2]

    def axis(out, length):
        source = np.arange(out) * (length / out)
        low = np.floor(source).astype(int)
        return low, np.minimum(low + 1, length - 1), source - low

    y0, y1, dy = axis(size, height)
    x0, x1, dx = axis(size, width)
    top = image[y0][:, x0] + (image[y0][:, x1] - image[y0][:, x0]) * dx[None, :, None]
    bottom = image[y1][:, x0] + (image[y1][:, x1] - image[y1][:, x0]) * dx[None, :, None]
    return top + (bottom - top) * dy[:, None, None]


@pytest.mark.parametrize("size_in, size_out", [(5, 7), (64, 299)])
def test_resize_matches_tf1_bilinear(size_in, size_out):
    image = np.random.default_rng(0).uniform(0, 255, (size_in, size_in, 3)).astype(np.float32)
    resized = extractors.resize_like_tf1(image[None], size_out)[0].numpy()
    np.testing.assert_allclose(
        resized, resize_bilinear_tf1(image.astype(np.float64), size_out), atol=1e-3
    )
    # TF 2's default resize samples at half-pixel centres: a different image.
    assert not np.allclose(resized, tf.image.resize(image[None], [size_out] * 2)[0], atol=1e-2)


# --- inception_ttur -------------------------------------------------------------------------


def write_tiny_ttur_graph(path, stride=37):
    """A GraphDef laid out like TTUR's classify_image_graph_def.pb up to Mul, then a small pool_3.

    DecodeJpeg/contents -> DecodeJpeg -> Cast -> ExpandDims -> ResizeBilinear(299) -> Sub(128)
    -> Mul(1/128), as in the real file; pool_3 [N, 1, 1, D] here is a strided sample of Mul's
    pixels, so any difference in resizing or scaling shows.
    """
    graph = tf.Graph()
    with graph.as_default():
        contents = tf.compat.v1.placeholder(tf.string, [], name="DecodeJpeg/contents")
        pixels = tf.cast(
            tf.io.decode_jpeg(contents, channels=3, name="DecodeJpeg"), tf.float32, name="Cast"
        )
        resized = tf.compat.v1.image.resize_bilinear(
            tf.expand_dims(pixels, 0, name="ExpandDims"), [299, 299], name="ResizeBilinear"
        )
        scaled = tf.multiply(tf.subtract(resized, 128.0, name="Sub"), 1 / 128, name="Mul")
        sample = scaled[:, ::stride, ::stride, :]
        tf.reshape(sample, [-1, 1, 1, int(np.prod(sample.shape[1:]))], name="pool_3")
    path.write_bytes(graph.as_graph_def().SerializeToString())
    return graph


def test_ttur_graph_gives_what_it_gives_a_jpeg_fed_through_its_own_nodes(tmp_path):
    graph = write_tiny_ttur_graph(tmp_path / "graph.pb")
    extractor = extractors.InceptionTTUR(str(tmp_path / "graph.pb"), batch_size=2)
    assert extractor.dim == 9 * 9 * 3 and extractor.comparable_with_papers
    jpegs = [tf.io.encode_jpeg(image).numpy() for image in blob_pixels(np.random.default_rng(1), 3)]
    with tf.compat.v1.Session(graph=graph) as session:
        expected = [
            session.run("pool_3:0", {"DecodeJpeg/contents:0": jpeg}).ravel() for jpeg in jpegs
        ]
    images = np.stack([tf.io.decode_jpeg(jpeg).numpy() for jpeg in jpegs])
    features = extractor(images)
    assert features.dtype == np.float64 and features.shape == (3, extractor.dim)
    np.testing.assert_allclose(features, expected, atol=1e-5)


def test_ttur_fingerprint_follows_the_file(tmp_path):
    write_tiny_ttur_graph(tmp_path / "a.pb")
    (tmp_path / "copy.pb").write_bytes((tmp_path / "a.pb").read_bytes())
    write_tiny_ttur_graph(tmp_path / "other.pb", stride=41)
    a = extractors.InceptionTTUR(str(tmp_path / "a.pb")).fingerprint()
    assert a == extractors.InceptionTTUR(str(tmp_path / "copy.pb")).fingerprint()
    assert a != extractors.InceptionTTUR(str(tmp_path / "other.pb")).fingerprint()


@pytest.mark.parametrize("path", ["", "/nonexistent/classify_image_graph_def.pb"])
def test_missing_ttur_graph_says_how_to_supply_it(path):
    with pytest.raises(FileNotFoundError) as error:
        extractors.build_extractor("inception_ttur", inception_ttur_path=path)
    message = str(error.value)
    assert "inception-2015-12-05.tgz" in message and "eval_inception_ttur_path" in message
    assert "not downloaded" in message


# --- inception_keras ------------------------------------------------------------------------


def tiny_keras_model():
    inputs = tf_keras.Input((299, 299, 3))
    features = tf_keras.layers.Conv2D(4, 13, strides=13)(inputs)
    return tf_keras.Model(inputs, tf_keras.layers.GlobalAveragePooling2D()(features))


def test_keras_weights_are_loaded_from_an_h5_file(tmp_path):
    original = tiny_keras_model()
    original.save_weights(str(tmp_path / "weights.h5"))
    extractor = extractors.InceptionKeras(
        str(tmp_path / "weights.h5"), build_model=tiny_keras_model
    )
    assert extractor.dim == 4 and not extractor.comparable_with_papers
    images = blob_pixels(np.random.default_rng(2), 3)
    resized = tf.image.resize(images.astype(np.float32), [299, 299]) / 127.5 - 1.0
    np.testing.assert_allclose(extractor(images), original(resized).numpy(), rtol=1e-4, atol=1e-5)


def test_keras_weights_come_from_keras_cache_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as error:
        extractors.InceptionKeras(build_model=tiny_keras_model)
    assert extractors.keras_cache_path() in str(error.value)
    assert "eval_inception_keras_weights" in str(error.value)
    (tmp_path / "models").mkdir()
    tiny_keras_model().save_weights(str(tmp_path / "models" / extractors.KERAS_WEIGHTS_FILE))
    assert extractors.InceptionKeras(build_model=tiny_keras_model).dim == 4


def test_unknown_extractor_names_the_choices():
    with pytest.raises(ValueError, match="random_embedding"):
        extractors.build_extractor("inception_v4")
