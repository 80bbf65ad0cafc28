"""The executor on small artifacts made here: real TFRecords, Transform's metadata, a tiny
exported generator. Checks the files, the keys, the blessing, the cache and the baseline."""

import dataclasses
import json
import os

import numpy as np
import pytest
import tensorflow as tf
import tf_keras
from gan_evaluator_testing import blob_images
from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io, schema_utils
from tfx import types
from tfx.types import standard_artifacts
from tfx.utils import path_utils

from components.gan_evaluator import executor
from components.gan_evaluator import results as evaluator_results
from components.gan_evaluator.component import GanEvaluator
from components.gan_evaluator.settings import EvaluatorSettings
from pipeline_config import PipelineConfig
from trainer_module import export, pixels

Z_DIM = 100
NUM_SAMPLES = 40


def artifact(kind, uri, artifact_id=0):
    instance = kind()
    instance.uri = str(uri)
    instance.id = artifact_id
    return instance


def write_transformed_examples(root, count=48, images=None):
    """Transform's outputs as the evaluator reads them: GZIP tf.Examples of uint8 PNGs and the
    metadata. The images are `count` blob images, or the given uint8 ones. `root`: a local
    folder or any tf.io.gfile URI (ram://...)."""
    root = str(root)
    examples = artifact(standard_artifacts.Examples, os.path.join(root, "examples"))
    examples.split_names = '["train"]'
    if images is None:
        images = pixels.to_uint8(blob_images(np.random.default_rng(0), count)).numpy()
    tf.io.gfile.makedirs(os.path.join(root, "examples", "Split-train"))
    with tf.io.TFRecordWriter(
        os.path.join(root, "examples", "Split-train", "data.gz"), "GZIP"
    ) as w:
        for image in images:
            png = tf.io.encode_png(image).numpy()
            feature = tf.train.Feature(bytes_list=tf.train.BytesList(value=[png]))
            example = tf.train.Example(features=tf.train.Features(feature={"image": feature}))
            w.write(example.SerializeToString())
    spec = {"image": tf.io.FixedLenFeature([], tf.string)}
    metadata_io.write_metadata(
        dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec)),
        os.path.join(root, "graph", "transformed_metadata"),
    )
    return examples, artifact(standard_artifacts.TransformGraph, os.path.join(root, "graph"))


def export_tiny_generator(uri, model_id, seed):
    """A one-layer generator behind the real export signatures."""
    tf.random.set_seed(seed)
    generator = tf_keras.Sequential(
        [
            tf_keras.Input((Z_DIM,)),
            tf_keras.layers.Dense(64 * 64 * 3, activation="tanh"),
            tf_keras.layers.Reshape((64, 64, 3)),
        ]
    )
    model = artifact(standard_artifacts.Model, uri, model_id)
    export.export_generator(generator, path_utils.serving_model_path(model.uri), Z_DIM)
    return model


@pytest.fixture(scope="module")
def inputs(module_tmp):
    root = module_tmp("evaluator")
    examples, graph = write_transformed_examples(root)
    return {
        "root": root,
        "examples": examples,
        "graph": graph,
        "model": export_tiny_generator(root / "model", 7, seed=1),
        "other_model": export_tiny_generator(root / "other_model", 5, seed=2),
    }


def evaluator_settings(root, **overrides) -> EvaluatorSettings:
    """The default config's settings on this test's small sizes; `overrides` by their names."""
    config = PipelineConfig(
        z_dim=Z_DIM,
        eval_split="train",
        eval_num_samples=NUM_SAMPLES,
        eval_batch_size=16,
        eval_metrics=("fid", "kid", "prdc", "swd", "ms_ssim"),
        eval_feature_subset_size=40,
        eval_image_subset_size=24,
        eval_kid_subsets=5,
        eval_kid_subset_size=20,
        eval_swd_patches_per_image=8,
        eval_ms_ssim_pairs=10,
        max_fd_ratio_to_untrained=2.0,
        eval_min_precision_fraction=0.0,
        eval_min_recall_fraction=0.0,
        sample_grid_size=3,
        attributes=(),
    )  # blob images have none; tests/test_pipeline_e2e.py measures them
    return dataclasses.replace(
        EvaluatorSettings.of(config),
        **{"eval_cache_dir": os.path.join(str(root), "cache"), **overrides},
    )


def exec_properties(root, **overrides):
    """The component's own parameters, as TFX hands them to the executor."""
    channels = [
        types.Channel(type=kind)
        for kind in (
            standard_artifacts.Model,
            standard_artifacts.Examples,
            standard_artifacts.TransformGraph,
        )
    ]
    component = GanEvaluator(*channels, settings=evaluator_settings(root, **overrides))
    return dict(component.exec_properties)


def evaluate(inputs, name, baseline=None, **overrides):
    root = inputs["root"]
    evaluation = artifact(standard_artifacts.ModelEvaluation, root / name / "evaluation")
    blessing = artifact(standard_artifacts.ModelBlessing, root / name / "blessing")
    input_dict = {
        "model": [inputs["model"]],
        "transformed_examples": [inputs["examples"]],
        "transform_graph": [inputs["graph"]],
    }
    if baseline is not None:
        input_dict["baseline_model"] = [baseline]
    executor.Executor().Do(
        input_dict,
        {"evaluation": [evaluation], "blessing": [blessing]},
        exec_properties(root, **overrides),
    )
    with open(os.path.join(evaluation.uri, evaluator_results.METRICS_FILE)) as f:
        return json.load(f), evaluation, blessing


@pytest.fixture(scope="module")
def first(inputs):
    return evaluate(inputs, "first")


def test_every_metric_is_written_under_its_extractor(first):
    metrics, _, _ = first
    key = "fid/random_embedding"
    for name in (
        key,
        key + "_untrained",
        key + "_ratio_to_untrained",
        "kid/random_embedding",
        "kid/random_embedding_std",
        "precision/random_embedding",
        "recall/random_embedding",
        "density/random_embedding",
        "coverage/random_embedding",
        "swd/laplacian_64",
        "swd/laplacian_16",
        "swd/laplacian_mean",
        "ms_ssim/generated",
        "ms_ssim/real",
    ):
        assert np.isfinite(metrics[name]), name
    assert not any(name.startswith("fd/") for name in metrics)  # one name per metric
    assert metrics["num_generated_images"] == NUM_SAMPLES and metrics["num_real_images"] == 48
    assert metrics["extractors"] == {
        "random_embedding": {"dim": 512, "comparable_with_papers": False}
    }
    assert any("40 samples < 512" in warning for warning in metrics["warnings"])


def test_outputs_and_blessing_are_written_as_tfx_evaluator_does(first, inputs):
    metrics, evaluation, blessing = first
    assert metrics["blessed"] and metrics["not_blessed_reasons"] == []
    assert os.path.exists(os.path.join(blessing.uri, "BLESSED"))
    assert blessing.get_int_custom_property("blessed") == 1
    assert blessing.get_int_custom_property("current_model_id") == inputs["model"].id
    assert blessing.get_string_custom_property("current_model") == inputs["model"].uri
    with open(os.path.join(evaluation.uri, evaluator_results.SUMMARY_FILE)) as f:
        assert f.read().strip().endswith("BLESSED")
    grid_path = os.path.join(evaluation.uri, evaluator_results.SAMPLE_GRID_FILE)
    grid = tf.io.decode_png(tf.io.read_file(grid_path))
    assert grid.shape == (3 * 64 + 2 * 2, 3 * 64 + 2 * 2, 3)


def test_a_second_evaluation_reuses_the_cached_statistics(first, inputs):
    again, _, _ = evaluate(inputs, "again")
    # The candidate's features are cached too, but its images are drawn again for SWD and MS-SSIM.
    assert again["statistics_cache_hits"] == {
        "real": True,
        "real_vs_real": True,
        "candidate": False,
        "untrained": True,
    }
    assert first[0]["statistics_cache_hits"] == {
        "real": False,
        "real_vs_real": False,
        "candidate": False,
        "untrained": False,
    }
    for key in (
        "fid/random_embedding",
        "fid/random_embedding_untrained",
        "kid/random_embedding",
        "precision/random_embedding",
        "swd/laplacian_mean",
        "ms_ssim/generated",
    ):
        assert again[key] == pytest.approx(first[0][key], rel=1e-9), key


def test_baseline_is_scored_and_gates_the_blessing(first, inputs):
    same, _, blessing = evaluate(inputs, "same_baseline", baseline=inputs["model"])
    assert same["fid/random_embedding_baseline"] == pytest.approx(same["fid/random_embedding"])
    assert same["statistics_cache_hits"]["baseline"] and same["blessed"]
    assert blessing.get_int_custom_property("baseline_model_id") == inputs["model"].id

    worse, _, blessing = evaluate(
        inputs, "strict_baseline", baseline=inputs["other_model"], baseline_fd_tolerance=-1.0
    )
    assert not worse["blessed"] and "baseline" in worse["not_blessed_reasons"][0]
    assert os.path.exists(os.path.join(blessing.uri, "NOT_BLESSED"))
    assert blessing.get_int_custom_property("blessed") == 0


def test_thresholds_on_any_metric_gate_the_blessing(inputs):
    metrics, _, _ = evaluate(
        inputs,
        "threshold",
        eval_metrics=("fid", "prdc"),
        eval_thresholds=[("precision/random_embedding", "min", 1.5)],
    )
    assert not metrics["blessed"]
    assert metrics["not_blessed_reasons"] == [
        f"precision/random_embedding = {metrics['precision/random_embedding']:.4g} < 1.5"
    ]
    assert "kid/random_embedding" not in metrics and "swd/laplacian_mean" not in metrics


def test_attributes_the_examples_lack_stop_the_evaluator_naming_them(inputs):
    with pytest.raises(
        ValueError,
        match="the transformed examples have no attr_Smiling: Transform passed on other attributes",
    ):
        evaluate(inputs, "no_attributes", attributes=("Smiling",))


def test_a_conditional_evaluator_refuses_an_unconditional_model_naming_it(inputs):
    with pytest.raises(
        ValueError,
        match="configured for a conditional generator but the model carries no attribute table",
    ):
        evaluate(inputs, "conditional", conditional=True)


def test_a_primary_metric_outside_the_configured_ones_is_rejected_early(inputs):
    with pytest.raises(ValueError, match="primary metric"):
        exec_properties(inputs["root"], eval_primary_metric="precision/random_embedding")
    with pytest.raises(ValueError, match="primary metric"):
        exec_properties(inputs["root"], eval_primary_metric="fid/inception_ttur")
    with pytest.raises(ValueError, match="unknown metrics"):
        exec_properties(inputs["root"], eval_metrics=("fid", "is"))
