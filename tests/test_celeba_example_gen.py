"""CelebAExampleGen's executor run for real (Beam DirectRunner) on small CelebA-layout folders."""
import os
import shutil

import pytest
import tensorflow as tf
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_artifacts
from tfx.utils import proto_utils

from components.celeba_example_gen.component import CelebAExampleGen
from components.celeba_example_gen.executor import Executor, ImageReadError, image_to_example
from data import celeba_files
from data.synthetic_celeba import generate_dataset

NUM_IMAGES = 30


@pytest.fixture(scope="module")
def celeba_root(tmp_path_factory):
    return str(generate_dataset(tmp_path_factory.mktemp("celeba"), NUM_IMAGES, seed=3))


def run_example_gen(data_root, output_dir):
    """Runs the executor with the exact exec properties the component would hand it."""
    component = CelebAExampleGen(data_root=data_root)
    props = dict(component.exec_properties)
    for key in ("input_config", "output_config"):
        props[key] = proto_utils.proto_to_json(props[key]) if not isinstance(props[key], str) else props[key]
    examples = standard_artifacts.Examples()
    examples.uri = str(output_dir)
    Executor().Do({}, {"examples": [examples]}, props)
    return examples


def read_split(examples, split):
    pattern = os.path.join(artifact_utils.get_split_uri([examples], split), "*.gz")
    records = tf.data.TFRecordDataset(tf.io.gfile.glob(pattern), compression_type="GZIP")
    return [tf.train.Example.FromString(r) for r in records.as_numpy_iterator()]


def feature(example, name):
    f = example.features.feature[name]
    return list(f.int64_list.value) or list(f.bytes_list.value)


def test_splits_follow_the_partition_file_and_attributes_are_kept(celeba_root, tmp_path):
    examples = run_example_gen(celeba_root, tmp_path)
    partitions = celeba_files.read_partition_file(os.path.join(celeba_root, celeba_files.PARTITION_FILE))
    names, rows = celeba_files.read_attribute_file(os.path.join(celeba_root, celeba_files.ATTRIBUTE_FILE))
    assert artifact_utils.decode_split_names(examples.split_names) == ["train", "eval", "test"]
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
                assert feature(example, "image") == [f.read()]
    assert seen == partitions  # every file once, in the split its partition id names


def test_flat_folder_without_lists_gets_a_hash_split_and_no_attributes(celeba_root, tmp_path):
    flat = tmp_path / "flat"
    shutil.copytree(os.path.join(celeba_root, celeba_files.IMAGE_DIR), flat)
    examples = run_example_gen(str(flat), tmp_path / "out")
    per_split = {s: read_split(examples, s) for s in ("train", "eval", "test")}
    assert sum(len(v) for v in per_split.values()) == NUM_IMAGES
    assert len(per_split["train"]) > len(per_split["eval"])
    example = per_split["train"][0]
    assert not any(name.startswith("attr_") for name in example.features.feature)
    again = run_example_gen(str(flat), tmp_path / "again")  # deterministic: same files per split
    for split, records in per_split.items():
        assert sorted(feature(e, "filename")[0] for e in records) == \
            sorted(feature(e, "filename")[0] for e in read_split(again, split))


def test_partition_file_that_does_not_match_the_images_stops_the_run(celeba_root, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(celeba_root, broken)
    os.remove(broken / celeba_files.IMAGE_DIR / "000002.jpg")
    with pytest.raises(ValueError, match="1 listed but missing"):
        run_example_gen(str(broken), tmp_path / "out")


def test_unreadable_image_is_named():
    with pytest.raises(ImageReadError, match="bad.jpg"):
        image_to_example("bad.jpg", b"\xff\xd8\xff not really a jpeg")
