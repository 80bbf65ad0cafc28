"""image_size=128 end to end: Transform, Trainer, evaluator, export, Pusher and the CLI."""
import math

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from dcgan_faces import cli
from pipeline import run_local
from reporting.run_outputs import read_run_outputs
from tiny_pipeline import tiny_config
from trainer_module import networks, pixels

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run_128(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e128")
    config = tiny_config(root, image_size=128)
    run_local.prepare_data(config)
    run_local.run(config)
    return config, read_run_outputs(config.metadata_path)


def test_the_pushed_generator_draws_128_px_faces_from_the_deeper_network(run_128):
    _, outputs = run_128
    assert outputs.pushed_model
    serve = tf.saved_model.load(outputs.pushed_model).signatures["serving_default"]
    images = serve(z=tf.random.normal([3, 100]))["images"]
    assert images.dtype == tf.uint8 and images.shape == (3, 128, 128, 3)
    weights = tf.saved_model.load(outputs.pushed_model).generator.variables
    assert sum(int(np.prod(w.shape)) for w in weights) == \
        networks.build_generator(100, image_size=128).count_params()


def test_the_evaluator_scores_128_px_images_against_128_px_references(run_128):
    _, outputs = run_128
    for key in ("fid/random_embedding", "fid/random_embedding_untrained",
                "precision/random_embedding", "ms_ssim/generated"):
        assert math.isfinite(outputs.metrics[key]), key
    with Image.open(outputs.sample_grid) as grid:  # 4 x 4 samples of 128 px
        assert grid.width >= 4 * 128


def test_the_cli_draws_a_grid_of_128_px_faces(run_128, tmp_path, capsys):
    _, outputs = run_128
    out = tmp_path / "grid.png"
    assert cli.main(["sample", outputs.pushed_model, "--grid", str(out), "-n", "4"]) == 0
    with Image.open(out) as grid:
        assert grid.width >= 2 * 128 and grid.height >= 2 * 128


def test_transform_stored_128_px_pngs(run_128):
    config, _ = run_128
    pattern = f"{config.pipeline_root}/Transform/transformed_examples/*/Split-train/*"
    records = tf.data.TFRecordDataset(tf.io.gfile.glob(pattern), compression_type="GZIP")
    first = tf.io.parse_single_example(next(iter(records)),
                                       {"image": tf.io.FixedLenFeature([], tf.string)})
    assert pixels.decode_png(first["image"][None]).shape[1:] == (128, 128, 3)
