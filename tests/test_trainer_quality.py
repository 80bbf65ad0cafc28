"""Quality during training, from run_fn's side: the probe's reference comes from the train split of
Transform's output (real GZIP TFRecords and transformed metadata), a split smaller than
probe_samples is used whole, and run_fn writes the quality scalars and prints the probe's cost."""

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
from gan_evaluator_testing import blob_images
from standalone import trainer_fn_args
from test_gan_evaluator_executor import write_transformed_examples
from test_training_loop import QUALITY_METRICS, scalar_events

from pipeline_config import PipelineConfig
from reporting import run_report
from trainer_module import pixels, run
from trainer_module.batchnorm import ExportView
from trainer_module.checkpoints import Checkpoints
from trainer_module.settings import TrainerSettings

TRAIN_IMAGES = 48  # write_transformed_examples' default: blob_images(default_rng(0), 48)


def with_eval_split(examples):
    """The Trainer's FnArgs want an eval split too; a copy of train serves (run_fn never reads
    it)."""
    shutil.copytree(
        os.path.join(examples.uri, "Split-train"), os.path.join(examples.uri, "Split-eval")
    )
    examples.split_names = '["train", "eval"]'
    return examples


def transformed_examples(root, count):
    """(examples, transform graph) of `count` train images, as Transform writes them."""
    examples, graph = write_transformed_examples(root, count)
    return with_eval_split(examples), graph


@pytest.fixture(scope="module")
def transformed(module_tmp):
    return transformed_examples(module_tmp("transformed"), TRAIN_IMAGES)


@pytest.fixture(scope="module")
def view():
    return ExportView(run.build_dcgan(TrainerSettings.of(PipelineConfig())).generator, 100)


def probe_config(**overrides):
    return TrainerSettings.of(PipelineConfig(eval_every_steps=5).with_overrides(**overrides))


def build(transformed, view, **overrides):
    examples, graph = transformed
    config = probe_config(**overrides)
    fn_args = trainer_fn_args(examples, graph, config)
    return run.build_quality_scores(
        config, fn_args.train_files, tft.TFTransformOutput(fn_args.transform_graph_path), view
    )


def test_the_reference_is_the_first_train_images_as_transform_stored_them(transformed):
    examples, graph = transformed
    fn_args = trainer_fn_args(examples, graph, probe_config())
    images = run.train_images(fn_args.train_files, tft.TFTransformOutput(graph.uri), 30)
    stored = pixels.to_uint8(blob_images(np.random.default_rng(0), TRAIN_IMAGES)).numpy()
    assert images.dtype == np.uint8
    np.testing.assert_array_equal(images, stored[:30])


def test_the_next_probe_samples_images_give_the_real_vs_real_ceiling(transformed, view, capsys):
    quality = build(transformed, view, probe_samples=20)
    assert quality.probe.num_samples == 20
    assert set(quality.real_vs_real) == {f"{name}/random_embedding" for name in QUALITY_METRICS}
    assert all(math.isfinite(value) for value in quality.real_vs_real.values())
    assert capsys.readouterr().out == (
        "Quality probe: 20 fixed z against the first 20 train images; real vs real: the next 20\n"
    )


def test_without_a_second_full_sample_there_is_no_ceiling(transformed, view, capsys):
    quality = build(transformed, view, probe_samples=30)  # 48 - 30 = 18 left
    assert quality.probe.num_samples == 30 and quality.real_vs_real is None
    assert "no real-vs-real ceiling (it needs 60 train images)" in capsys.readouterr().out


def test_a_split_smaller_than_probe_samples_is_used_whole(transformed, view, capsys):
    quality = build(transformed, view, probe_samples=500)
    assert quality.probe.num_samples == TRAIN_IMAGES and quality.real_vs_real is None
    assert f"(the train split holds only {TRAIN_IMAGES})" in capsys.readouterr().out


def test_too_few_train_images_for_the_metrics_fail_clearly(tmp_path, view):
    few = transformed_examples(tmp_path, count=run.MIN_PROBE_IMAGES - 1)
    with pytest.raises(
        ValueError,
        match=r"at least 6 train images, the train split holds 5; "
        r"set eval_every_steps=0",
    ):
        build(few, view)


def test_eval_every_steps_zero_builds_no_probe(transformed, view, capsys):
    assert build(transformed, view, eval_every_steps=0) is None
    assert capsys.readouterr().out == ""


def test_run_fn_writes_the_quality_curve_and_prints_its_cost(transformed, tmp_path, capsys):
    examples, graph = transformed
    config = TrainerSettings.of(
        PipelineConfig(
            output_root=str(tmp_path / "out"),
            batch_size=8,
            eval_every_steps=1,
            probe_samples=20,
            sample_grid_size=2,
        )
    )
    fn_args = trainer_fn_args(examples, graph, config)
    fn_args.train_steps = 2
    fn_args.model_run_dir = str(tmp_path / "model_run")
    fn_args.serving_model_dir = str(tmp_path / "model")
    run.run_fn(fn_args)
    log_dir = tmp_path / "model_run" / "tensorboard"
    scalars = scalar_events(log_dir)
    for name in QUALITY_METRICS:
        assert sorted(scalars[f"quality/{name}"]) == [1, 2]
        assert sorted(scalars[f"quality_real_vs_real/{name}"]) == [0]
    # The report page's model finds them in the Trainer's files.
    report = run_report.RunReport(
        pipeline_name="p", run_id="r", states={}, scalars=run_report.read_scalars(str(log_dir))
    )
    assert set(report.quality_curves) == set(report.quality_real_vs_real) == set(QUALITY_METRICS)
    cost = [
        line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("Quality probe: ") and " calls, " in line
    ]
    assert len(cost) == 1 and " in 2 calls, " in cost[0]

    # The export is the moving average of G's weights, not G's last weights: the final
    # checkpoint holds both.
    trained = run.build_dcgan(config)
    Checkpoints(
        trained, run.resume_dir(config, fn_args.transform_graph_path, fn_args.train_files)
    ).restore()
    exported = tf.train.load_checkpoint(
        os.path.join(fn_args.serving_model_dir, "variables", "variables")
    )
    kernels = {
        tuple(shape): exported.get_tensor(name)  # each of G's kernels: its own shape
        for name, shape in exported.get_variable_to_shape_map().items()
        if "/kernel/" in name
    }
    pairs = [
        (average.numpy(), weight.numpy())
        for average, weight in zip(
            trained.generator_average.averages, trained.generator.trainable_weights
        )
        if "kernel" in weight.name
    ]
    assert len(kernels) == len(pairs) > 0, sorted(kernels)
    for average, weight in pairs:
        np.testing.assert_array_equal(kernels[average.shape], average)
        assert not np.array_equal(average, weight)


BOOKKEEPING_RUN = """
import hashlib, sys
from pathlib import Path
sys.path[:0] = [{repo!r}, {tests!r}]
import conftest  # Keras 2 and oneDNN before TensorFlow, as in the suite
from test_trainer_quality import transformed_examples
from standalone import trainer_fn_args
from pipeline_config import PipelineConfig
from trainer_module import run
from trainer_module.settings import TrainerSettings
from dcgan_faces import generator
root = Path({root!r})
examples, graph = transformed_examples(root / "data", 48)
config = PipelineConfig(output_root=str(root / "out"), batch_size=8, **{bookkeeping!r})
fn_args = trainer_fn_args(examples, graph, TrainerSettings.of(config))
fn_args.train_steps = 3
fn_args.model_run_dir, fn_args.serving_model_dir = str(root / "model_run"), str(root / "model")
run.run_fn(fn_args)
faces = generator.load(fn_args.serving_model_dir).sample(4, seed=0)
print("FACES", hashlib.sha256(faces.tobytes()).hexdigest())
"""


@pytest.mark.slow
def test_the_bookkeeping_settings_do_not_change_the_trained_generator(tmp_path):
    """Probing, logging and checkpointing every step, bigger grids: the exported generator draws
    the same faces, bit for bit, as with none of it, so run.BOOKKEEPING_SETTINGS stay out of the
    resume key. Each run is a process of its own: a second run_fn in the same process draws
    faces a few levels apart even with the same settings (TensorFlow's per-process random
    state), which would hide what this compares."""
    tests = Path(__file__).resolve().parent
    drawn = {}
    for name, bookkeeping in (
        (
            "quiet",
            dict(
                eval_every_steps=0,
                log_every_steps=5,
                checkpoint_every_steps=100,
                sample_grid_size=2,
            ),
        ),
        (
            "busy",
            dict(
                eval_every_steps=1,
                log_every_steps=1,
                probe_samples=20,
                checkpoint_every_steps=1,
                sample_grid_size=3,
            ),
        ),
    ):
        code = BOOKKEEPING_RUN.format(
            repo=str(tests.parent),
            tests=str(tests),
            root=str(tmp_path / name),
            bookkeeping=bookkeeping,
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr[-3000:]
        (drawn[name],) = [
            line.split()[1] for line in done.stdout.splitlines() if line.startswith("FACES ")
        ]
    assert set(run.BOOKKEEPING_SETTINGS) >= {
        "eval_every_steps",
        "log_every_steps",
        "checkpoint_every_steps",
        "sample_grid_size",
    }
    assert drawn["quiet"] == drawn["busy"]
