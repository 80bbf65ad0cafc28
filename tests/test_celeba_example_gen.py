"""CelebAExampleGen's executor run for real (Beam DirectRunner) on small CelebA-layout folders.

The helpers here (read_split, feature) are shared with the other ingestion tests.
"""

import os
import re
import shutil

import pytest
import tensorflow as tf
from standalone import example_gen_exec_properties, run_example_gen
from tfx.types import artifact_utils

from components.celeba_example_gen.driver import Driver
from components.celeba_example_gen.policy import IngestionPolicy
from components.celeba_example_gen.report import REPORT_FILE, IngestionError, read_report
from data import celeba_files
from data.synthetic_celeba import generate_dataset
from pipeline_config import PipelineConfig

NUM_IMAGES = 30
SPLITS = ("train", "eval", "test")


@pytest.fixture(scope="module")
def celeba_root(module_tmp):
    return str(generate_dataset(module_tmp("celeba"), NUM_IMAGES, seed=3))


def read_split(examples, split):
    pattern = os.path.join(artifact_utils.get_split_uri([examples], split), "*.gz")
    records = tf.data.TFRecordDataset(tf.io.gfile.glob(pattern), compression_type="GZIP")
    return [tf.train.Example.FromString(r) for r in records.as_numpy_iterator()]


def feature(example, name):
    f = example.features.feature[name]
    return list(f.int64_list.value) or list(f.bytes_list.value)


def test_splits_follow_the_partition_file_and_attributes_are_kept(celeba_root, tmp_path):
    examples = run_example_gen(celeba_root, tmp_path)
    partitions = celeba_files.read_partition_file(
        os.path.join(celeba_root, celeba_files.PARTITION_FILE)
    )
    names, rows = celeba_files.read_attribute_file(
        os.path.join(celeba_root, celeba_files.ATTRIBUTE_FILE)
    )
    assert artifact_utils.decode_split_names(examples.split_names) == list(SPLITS)
    seen = {}
    for split_id, split in celeba_files.PARTITION_NAMES.items():
        for example in read_split(examples, split):
            filename = feature(example, "filename")[0].decode()
            seen[filename] = split_id
            assert feature(example, "height") == [218] and feature(example, "width") == [178]
            assert feature(example, "channels") == [3]
            for name, value in zip(names, rows[filename]):
                assert feature(example, f"attr_{name}") == [1 if value == 1 else 0]
            with open(os.path.join(celeba_root, celeba_files.IMAGE_DIR, filename), "rb") as f:
                encoded = f.read()
            assert feature(example, "image") == [encoded]
            assert feature(example, "byte_size") == [len(encoded)]
    assert seen == partitions  # every file once, in the split its partition id names


def test_a_clean_run_reports_every_file_and_records_the_counts(celeba_root, tmp_path):
    examples = run_example_gen(celeba_root, tmp_path)
    report = read_report(tmp_path)
    assert report["files_seen"] == report["examples"] == NUM_IMAGES and report["rejected"] == 0
    assert report["examples_per_split"] == {"train": 24, "eval": 3, "test": 3}
    assert report["split_source"] == celeba_files.PARTITION_FILE
    assert examples.get_int_custom_property("ingestion_files_seen") == NUM_IMAGES
    assert examples.get_int_custom_property("ingestion_rejected") == 0
    assert examples.get_string_custom_property("ingestion_report") == str(tmp_path / REPORT_FILE)
    assert sorted(os.listdir(tmp_path)) == [
        "Split-eval",
        "Split-test",
        "Split-train",
        REPORT_FILE,
    ]  # the readers' records are gone


def test_flat_folder_without_lists_gets_a_hash_split_and_no_attributes(celeba_root, tmp_path):
    flat = tmp_path / "flat"
    shutil.copytree(os.path.join(celeba_root, celeba_files.IMAGE_DIR), flat)
    examples = run_example_gen(flat, tmp_path / "out")
    per_split = {s: read_split(examples, s) for s in SPLITS}
    assert sum(len(v) for v in per_split.values()) == NUM_IMAGES
    buckets = PipelineConfig().hash_split_buckets
    for split, records in per_split.items():  # the split is the hash of the name
        assert {
            celeba_files.hash_split(feature(e, "filename")[0].decode(), buckets) for e in records
        } <= {SPLITS.index(split)}
    example = per_split["train"][0]
    assert not any(name.startswith("attr_") for name in example.features.feature)
    assert read_report(tmp_path / "out")["split_source"].startswith("hash of the file name")


def test_the_policy_reaches_the_executor_through_custom_config(tmp_path):
    policy = IngestionPolicy.of(
        PipelineConfig(max_rejected_fraction=0.25, min_image_side=7, allowed_image_formats=("PNG",))
    )
    read_back = IngestionPolicy.from_exec_properties
    assert read_back(example_gen_exec_properties(tmp_path, policy)) == policy
    assert read_back(example_gen_exec_properties(tmp_path)) == IngestionPolicy.of(PipelineConfig())


def test_a_changed_list_file_changes_the_input_fingerprint(celeba_root, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(celeba_root, root)

    def fingerprint():
        props = Driver(None).resolve_exec_properties(example_gen_exec_properties(root), None, None)
        return props["input_fingerprint"]

    before = fingerprint()
    partition_file = root / celeba_files.PARTITION_FILE
    partition_file.write_text(partition_file.read_text().replace(" 0\n", " 1\n", 1))
    os.utime(partition_file, (1, 1))  # a different mtime, whatever the clock's resolution
    assert fingerprint() != before


def test_the_file_list_reaches_beam_as_text_files_a_runner_can_split(tmp_path, monkeypatch):
    """Not one Create holding every name (CelebA's list would outgrow Dataflow's graph limit):
    JSON lines in shards, read back by Beam as the same entries."""
    import json

    import apache_beam as beam
    from apache_beam.testing.util import assert_that, equal_to

    from components.celeba_example_gen import executor

    monkeypatch.setattr(executor, "MANIFEST_SHARD_SIZE", 10)
    entries = [(f"{i:06d}.jpg", SPLITS[i % 3], [i % 2, 1 - i % 2]) for i in range(25)]
    pattern = executor.write_manifest(entries, str(tmp_path / "manifest"))
    assert len(tf.io.gfile.glob(pattern)) == 3
    with beam.Pipeline() as pipeline:
        read = (
            pipeline
            | beam.io.ReadFromText(pattern)
            | beam.Map(json.loads)
            | beam.Map(lambda entry: (entry[0], entry[1], tuple(entry[2])))
        )
        assert_that(
            read, equal_to([(name, split, tuple(values)) for name, split, values in entries])
        )


@pytest.mark.parametrize(
    "spoil, error, message",
    [
        (
            lambda path: (path.unlink(), path.mkdir()),
            ValueError,
            "is a folder, not CelebA's list file list_attr_celeba.txt",
        ),
        (
            lambda path: path.write_bytes(bytes(range(256)) * 8),
            IngestionError,
            "list_attr_celeba.txt is unreadable "
            "(list_attr_celeba.txt, line 1: expected the row count",
        ),
    ],
)
def test_an_unreadable_attribute_list_stops_ingestion_naming_the_file(
    celeba_root, tmp_path, spoil, error, message
):
    root = tmp_path / "celeba"
    shutil.copytree(celeba_root, root)
    spoil(root / celeba_files.ATTRIBUTE_FILE)
    with pytest.raises(error, match=re.escape(message)):
        run_example_gen(str(root), str(tmp_path / "out"))
