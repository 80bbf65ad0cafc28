"""The curated schema (schema/schema.pbtxt) and the gate before Transform.

CelebAExampleGen's output is validated with TFDV's in-memory statistics (the generators
StatisticsGen runs in Beam, without Beam's start-up): the built-in data validates clean even with
one-image splits, and a flat folder without attributes does too. A folder of 500x400 images goes
through StatisticsGen's and ExampleValidator's own executors, as in the pipeline, to the gate.
"""

import glob
import os
import shutil

import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv
from standalone import run_example_gen
from tensorflow_data_validation.statistics import stats_impl
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.components.example_validator.executor import Executor as ValidatorExecutor
from tfx.components.statistics_gen.executor import Executor as StatisticsExecutor
from tfx.types import artifact_utils, standard_artifacts
from tfx.utils import io_utils
from tfx_bsl.coders import example_coder

from components.anomaly_gate import DataAnomaliesError, describe, raise_on_anomalies
from data import celeba_files
from data.synthetic_celeba import draw_face, face_for, generate_dataset, partition_counts
from pipeline import run_local
from pipeline_config import PipelineConfig

SCHEMA_FILE = PipelineConfig().schema_file
REQUIRED = ("image", "filename", "height", "width", "channels", "byte_size")


def schema():
    return io_utils.SchemaReader().read(SCHEMA_FILE)


def features():
    return {f.name: f for f in schema().feature}


def anomalies_in_memory(examples):
    """The anomalies of every split of `examples` against the checked-in schema, as text."""
    found = []
    for split in artifact_utils.decode_split_names(examples.split_names):
        files = glob.glob(os.path.join(artifact_utils.get_split_uri([examples], split), "*.gz"))
        records = list(tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator())
        batch = example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(records)
        statistics = stats_impl.generate_statistics_in_memory(
            batch, tfdv.StatsOptions(schema=schema())
        )
        found.extend(describe(split, tfdv.validate_statistics(statistics, schema())))
    return found


def checked_in_schema(work_dir):
    """A Schema artifact holding the checked-in schema, as ImportSchemaGen makes it."""
    schema = standard_artifacts.Schema()
    schema.uri = str(work_dir / "schema")
    io_utils.copy_file(SCHEMA_FILE, f"{schema.uri}/schema.pbtxt", overwrite=True)
    return schema


def statistics_as_the_pipeline_makes_them(examples, work_dir):
    """StatisticsGen's executor over `examples`, given the checked-in schema as in the pipeline."""
    statistics = standard_artifacts.ExampleStatistics()
    statistics.uri = str(work_dir / "statistics")
    StatisticsExecutor().Do(
        {"examples": [examples], "schema": [checked_in_schema(work_dir)]},
        {"statistics": [statistics]},
        {},
    )
    return statistics


def validate_as_the_pipeline_does(examples, work_dir):
    """ExampleAnomalies of `examples` against the checked-in schema, by TFX's own executors."""
    statistics = statistics_as_the_pipeline_makes_them(examples, work_dir)
    anomalies = standard_artifacts.ExampleAnomalies()
    anomalies.uri = str(work_dir / "anomalies")
    ValidatorExecutor().Do(
        {"statistics": [statistics], "schema": [checked_in_schema(work_dir)]},
        {"anomalies": [anomalies]},
        {},
    )
    return anomalies


def test_statistics_count_images_as_bytes_without_keeping_their_values(tmp_path):
    """Exact top values and uniques of a string feature keep every distinct value until the
    end: for the encoded images, the whole data set in one process (6 GB at 202,599 images on
    the DirectRunner). As bytes, TFDV keeps their sizes only."""
    root = generate_dataset(tmp_path / "data", 12, seed=1)
    statistics = statistics_as_the_pipeline_makes_them(
        run_example_gen(root, tmp_path / "examples"), tmp_path
    )
    split = artifact_utils.get_split_uri([statistics], "train")
    (dataset,) = tfdv.load_stats_binary(os.path.join(split, "FeatureStats.pb")).datasets
    image = next(f for f in dataset.features if f.path.step == ["image"])
    assert image.WhichOneof("stats") == "bytes_stats"
    assert image.bytes_stats.max_num_bytes > 1000  # the JPEGs' sizes


def test_the_reviewed_invariants_are_in_the_schema():
    found = features()
    assert {
        name: (found[name].int_domain.min, found[name].int_domain.max)
        for name in ("height", "width", "channels")
    } == {"height": (218, 218), "width": (178, 178), "channels": (3, 3)}
    for name in REQUIRED:
        assert found[name].presence.min_fraction == 1.0 and found[name].shape.dim[0].size == 1
    for name in celeba_files.CELEBA_ATTRIBUTES:
        attribute = found[f"attr_{name}"]
        assert (attribute.int_domain.min, attribute.int_domain.max) == (0, 1)
        assert (attribute.value_count.min, attribute.value_count.max) == (1, 1)
        assert not attribute.HasField("presence")  # absent for a folder without attributes
    assert found["filename"].WhichOneof("domain_info") is None
    assert found["image"].WhichOneof("domain_info") == "image_domain"
    assert set(found) == set(REQUIRED) | {f"attr_{a}" for a in celeba_files.CELEBA_ATTRIBUTES}
    assert found["image"].type == schema_pb2.BYTES


def test_the_built_in_data_validates_clean_even_with_one_image_splits(tmp_path):
    assert partition_counts(12) == (10, 1, 1)
    root = generate_dataset(tmp_path / "data", 12, seed=1)
    assert anomalies_in_memory(run_example_gen(root, tmp_path / "examples")) == []


def test_a_flat_folder_without_attributes_validates_clean(tmp_path):
    root = generate_dataset(tmp_path / "data", 12, seed=2)
    flat = tmp_path / "flat"
    shutil.copytree(root / celeba_files.IMAGE_DIR, flat)
    examples = run_example_gen(flat, tmp_path / "examples", hash_buckets=(1, 1, 1))
    assert anomalies_in_memory(examples) == []


def test_a_size_drift_is_named_and_stops_before_transform(tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    for i in range(6):
        draw_face(face_for(3, i)).resize((500, 400)).save(flat / f"{i:06d}.jpg")
    anomalies = validate_as_the_pipeline_does(
        run_example_gen(flat, tmp_path / "examples"), tmp_path
    )
    with pytest.raises(DataAnomaliesError) as error:
        raise_on_anomalies(anomalies)
    message = str(error.value)
    assert "height: Out-of-range values" in message and "width: Out-of-range values" in message
    assert "\n" not in message and anomalies.uri in message


@pytest.mark.slow
def test_the_pipeline_stops_before_transform_with_the_anomalies_named(tmp_path, capsys):
    flat = tmp_path / "flat"
    flat.mkdir()
    for i in range(6):
        draw_face(face_for(3, i)).resize((500, 400)).save(flat / f"{i:06d}.jpg")
    output_root = tmp_path / "out"
    assert run_local.main(["--data-root", str(flat), "--output-root", str(output_root)]) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("error: pipeline failed: DataAnomaliesError")
    assert "height: Out-of-range values" in error and "width: Out-of-range values" in error
    ran = os.listdir(PipelineConfig(output_root=str(output_root)).pipeline_root)
    assert "AnomalyGate" in ran and "Transform" not in ran
