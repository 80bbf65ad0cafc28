"""TFX's Transform executor, as the pipeline configures it, on the built-in faces (the shared tiny
run's): what it stores, how big it is, and that a rerun over the same data writes the same
examples."""

import os
import shutil

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
from standalone import run_transform, split_names, trainer_fn_args
from tfx.types import standard_artifacts
from tiny_pipeline import metadata_store, produced_by, tiny_config

from pipeline_config import PROJECT_ROOT, PipelineConfig
from trainer_module import pixels, run
from trainer_module.preprocessing import decode_crop_resize
from trainer_module.settings import TrainerSettings

pytestmark = pytest.mark.slow


def as_artifact(kind, recorded):
    """A TFX artifact of `kind` from its ML Metadata record."""
    artifact = kind()
    artifact.set_mlmd_artifact(recorded)
    return artifact


@pytest.fixture(scope="module")
def two_runs(module_tmp, tiny_command_run):
    """The shared tiny run's examples (64 built-in faces) and its Transform's outputs, and
    Transform run once more over the same examples, outside the pipeline, as it configures it."""
    tiny_root, _ = tiny_command_run
    config = tiny_config(tiny_root)
    store = metadata_store(config)
    examples = as_artifact(
        standard_artifacts.Examples, produced_by(store, "Examples", "CelebAExampleGen")
    )
    first = as_artifact(standard_artifacts.Examples, produced_by(store, "Examples", "Transform"))
    graph = as_artifact(
        standard_artifacts.TransformGraph, produced_by(store, "TransformGraph", "Transform")
    )
    root = module_tmp("transform")
    os.makedirs(root / "schema")
    shutil.copy(PROJECT_ROOT / "schema" / "schema.pbtxt", root / "schema")
    second, _ = run_transform(config, examples, str(root / "schema"), str(root / "again"))
    return examples, [first, second], graph


def split_files(artifact, split):
    return sorted(tf.io.gfile.glob(os.path.join(artifact.uri, f"Split-{split}", "*")))


def records(artifact, split):
    return list(
        tf.data.TFRecordDataset(
            split_files(artifact, split), compression_type="GZIP"
        ).as_numpy_iterator()
    )


def test_two_runs_write_the_same_examples_in_the_same_order(two_runs):
    """Equal as tf.Example protos, record by record. Not byte for byte: the serializer writes
    an Example's feature map (the image and the attributes) in no fixed order."""
    examples, (first, second), _ = two_runs
    for split in split_names(examples):
        files = split_files(first, split)
        assert [os.path.basename(f) for f in files] == [
            os.path.basename(f) for f in split_files(second, split)
        ] and files
        parsed = [
            [tf.train.Example.FromString(record) for record in records(run, split)]
            for run in (first, second)
        ]
        assert parsed[0] == parsed[1] and parsed[0], split


def test_every_example_is_a_64px_png_of_its_source_image(two_runs):
    """Count per split as ExampleGen wrote them; pixels as preprocessing's decode/crop/resize."""
    examples, (transformed, _), graph = two_runs
    spec = tft.TFTransformOutput(graph.uri).transformed_feature_spec()
    assert spec == {
        "image": tf.io.FixedLenFeature([], tf.string),
        **{
            f"attr_{name}": tf.io.FixedLenFeature([], tf.int64)
            for name in PipelineConfig().attributes
        },
    }
    for split in split_names(examples):
        raw = records(examples, split)
        stored = records(transformed, split)
        assert len(stored) == len(raw) > 0
        sizes = [len(record) for record in stored]
        assert max(sizes) <= 16 * 1024
        images = pixels.decode_png(
            tf.io.parse_example(stored, {"image": spec["image"]})["image"]
        ).numpy()
        assert images.shape == (len(raw), 64, 64, 3) and images.std() > 10
        # Beam may reorder records: match each source image to its stored one by content.
        sources = tf.io.parse_example(raw, {"image": tf.io.FixedLenFeature([], tf.string)})
        expected = tf.stack(
            [
                pixels.quantize(decode_crop_resize(encoded, "center_square", 64))
                for encoded in sources["image"]
            ]
        ).numpy()
        assert sorted(map(bytes, expected.reshape(len(raw), -1))) == sorted(
            map(bytes, images.reshape(len(raw), -1))
        )


def test_each_example_keeps_its_own_attributes(two_runs):
    """Every configured attribute, matched to its source example through the image (Beam may
    reorder records): the values ExampleGen wrote, true by construction on the built-in set."""
    examples, (transformed, _), graph = two_runs
    names = PipelineConfig().attributes
    raw_spec = {
        "image": tf.io.FixedLenFeature([], tf.string),
        **{f"attr_{name}": tf.io.FixedLenFeature([], tf.int64) for name in names},
    }
    spec = tft.TFTransformOutput(graph.uri).transformed_feature_spec()
    for split in split_names(examples):
        raw = tf.io.parse_example(records(examples, split), raw_spec)
        stored = tf.io.parse_example(records(transformed, split), spec)
        by_image = {
            bytes(pixels.quantize(decode_crop_resize(encoded, "center_square", 64)).numpy()): [
                int(raw[f"attr_{n}"][i]) for n in names
            ]
            for i, encoded in enumerate(raw["image"])
        }
        images = pixels.decode_png(stored["image"]).numpy()
        for i, image in enumerate(images):
            assert [int(stored[f"attr_{n}"][i]) for n in names] == by_image[bytes(image)]
        smiling = stored["attr_Smiling"].numpy()
        assert set(smiling) <= {0, 1} and 0 < smiling.mean() < 1  # both values occur


def test_the_trainer_reads_float_batches_in_the_model_range(two_runs):
    """run_fn's input pipeline over Transform's output: the decoded PNGs, scaled to [-1, 1]."""
    examples, (transformed, _), graph = two_runs
    config = TrainerSettings.of(PipelineConfig(batch_size=8))
    fn_args = trainer_fn_args(transformed, graph, config)
    dataset = run.image_dataset(
        fn_args.train_files,
        fn_args.data_accessor,
        tft.TFTransformOutput(fn_args.transform_graph_path),
        batch_size=8,
        image_size=64,
        seed=0,
        shuffle_buffer=16,
    )
    batch = next(iter(dataset)).numpy()
    assert batch.shape == (8, 64, 64, 3) and batch.dtype == np.float32
    assert batch.min() >= -1.0 and batch.max() <= 1.0 and batch.std() > 0.1
    # Exactly the stored uint8 levels: (level / 127.5 - 1) for integer levels.
    levels = (batch + 1.0) * 127.5
    np.testing.assert_allclose(levels, np.round(levels), atol=1e-3)


def test_a_conditional_trainer_reads_each_image_with_its_attributes_in_the_asked_order(two_runs):
    """image_dataset for a conditional model: (images, codes), the codes in the order of the
    names asked for (not the schema's), +1/-1 for the stored 1/0, for each image's own example
    (matched by its pixels)."""
    examples, (transformed, _), graph = two_runs
    names = ("Smiling", "Bangs", "Male", "Eyeglasses")
    fn_args = trainer_fn_args(transformed, graph, TrainerSettings.of(PipelineConfig(batch_size=8)))
    dataset = run.image_dataset(
        fn_args.train_files,
        fn_args.data_accessor,
        tft.TFTransformOutput(graph.uri),
        batch_size=8,
        image_size=64,
        seed=0,
        shuffle_buffer=16,
        attributes=names,
    )
    spec = tft.TFTransformOutput(graph.uri).transformed_feature_spec()
    stored = tf.io.parse_example(records(transformed, "train"), spec)
    by_image = {
        bytes(image): [2.0 * int(stored[f"attr_{n}"][i]) - 1.0 for n in names]
        for i, image in enumerate(pixels.decode_png(stored["image"]).numpy())
    }
    images, codes = next(iter(dataset))
    assert codes.shape == (8, 4) and codes.dtype == tf.float32
    levels = np.round((images.numpy() + 1.0) * 127.5).astype(np.uint8)
    for image, row in zip(levels, codes.numpy()):
        assert row.tolist() == by_image[bytes(image)]
    assert len({tuple(row) for row in codes.numpy()}) > 1  # not one row repeated
