"""The whole DAG on a tiny configuration, LocalDagRunner + Beam DirectRunner, asserted on
artifacts."""

import math
import os

import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2
from tiny_pipeline import metadata_store, produced_by, split_records, tiny_config

from data import celeba_files
from pipeline import run_local
from reporting.run_outputs import read_run_outputs
from trainer_module import pixels

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_run(tiny_command_run):
    """The shared tiny run (as `make run` starts it), then the same pipeline again in this
    process, which must be served from the cache."""
    root, _ = tiny_command_run
    config = tiny_config(root)
    first = read_run_outputs(config.metadata_path)
    run_local.run(config)
    second = read_run_outputs(config.metadata_path)
    store = metadata_store(config)
    return config, first, second, store


def latest(store, type_name):
    return max(store.get_artifacts_by_type(type_name), key=lambda a: a.id)


def test_the_whole_run_needs_no_network(tiny_command_run):
    """The shared run ran with no network beyond loopback (tests/pipeline_attempts.py), from
    the built-in data to the pushed model."""
    _, attempt = tiny_command_run
    if not attempt.offline:
        pytest.skip("this machine refuses `unshare --net`: the shared run had the network")
    assert attempt.completed("Pusher")
    assert any(line.startswith("  Pushed model:") for _, line in attempt.lines)


def test_examples_per_split_equal_the_partition_file(tiny_run):
    config, _, _, store = tiny_run
    partitions = celeba_files.read_partition_file(
        os.path.join(config.data_root, celeba_files.PARTITION_FILE)
    )
    examples = produced_by(store, "Examples", "CelebAExampleGen")
    for split_id, split in celeba_files.PARTITION_NAMES.items():
        expected = sum(1 for v in partitions.values() if v == split_id)
        assert len(split_records(examples.uri, split)) == expected > 0


def test_schema_holds_the_image_feature(tiny_run):
    _, _, _, store = tiny_run
    schema = text_format.Parse(
        open(
            os.path.join(produced_by(store, "Schema", "ImportSchemaGen").uri, "schema.pbtxt")
        ).read(),
        schema_pb2.Schema(),
    )
    features = {f.name: f for f in schema.feature}
    assert features["image"].type == schema_pb2.BYTES
    assert features["height"].type == schema_pb2.INT and "attr_Smiling" in features


def test_transformed_images_are_64x64x3_pngs(tiny_run):
    _, _, _, store = tiny_run
    transformed = produced_by(store, "Examples", "Transform")
    spec = {"image": tf.io.FixedLenFeature([], tf.string)}
    records = split_records(transformed.uri, "train")
    images = pixels.decode_png(tf.io.parse_example(records, spec)["image"]).numpy()
    assert images.shape[1:] == (64, 64, 3) and len(images) > 0
    assert images.dtype == np.uint8 and images.std() > 10


def test_pushed_generator_maps_z_to_uint8_images(tiny_run):
    _, first, _, _ = tiny_run
    assert first.pushed_model and os.path.isdir(first.pushed_model)
    serve = tf.saved_model.load(first.pushed_model).signatures["serving_default"]
    images = serve(z=tf.random.stateless_normal([5, 100], [0, 0]))["images"]
    assert images.dtype == tf.uint8 and images.shape == (5, 64, 64, 3)


def test_metrics_are_finite_and_blessing_is_recorded(tiny_run):
    _, first, _, store = tiny_run
    key = first.metrics["primary_metric"]
    assert key == "fid/random_embedding"
    for name in (key, key + "_untrained", key + "_ratio_to_untrained"):
        assert math.isfinite(first.metrics[name]) and first.metrics[name] > 0
    assert first.metrics["num_generated_images"] == 64
    assert os.path.getsize(first.sample_grid) > 1000
    blessing = latest(store, "ModelBlessing")
    model = latest(store, "Model")
    assert blessing.custom_properties["blessed"].int_value == 1
    assert blessing.custom_properties["current_model_id"].int_value == model.id
    assert os.path.exists(os.path.join(blessing.uri, "BLESSED"))


def test_second_run_is_served_from_cache(tiny_run):
    _, first, second, _ = tiny_run
    assert set(first.executions) == {"COMPLETE"}
    assert second.fully_cached and second.run_id != first.run_id
    assert second.metrics == first.metrics
