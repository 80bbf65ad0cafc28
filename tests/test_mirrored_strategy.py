"""The Trainer under MirroredStrategy with two replicas (two logical CPU devices): the GPU
code path of a multi-GPU machine, exercised on one CPU. Each run is a subprocess
(tests/mirrored_worker.py), since logical devices must be set before TensorFlow starts."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from margins import largest_relative_difference, measured

pytestmark = pytest.mark.slow  # four training processes of about 50 s each on 2 cores

WORKER = Path(__file__).with_name("mirrored_worker.py")


def run_worker(checkpoint_dir, steps, mode="mirrored") -> dict:
    done = subprocess.run(
        [sys.executable, str(WORKER), str(checkpoint_dir), str(steps), mode],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "stdout": done.stdout}


@pytest.fixture(scope="module")
def runs(module_tmp):
    root = module_tmp("mirrored")
    return {
        "one_device": run_worker(root / "one", 1, "default"),
        "whole": run_worker(root / "whole", 4),
        "stopped": run_worker(root / "resumed", 2),
        "resumed": run_worker(root / "resumed", 4),
    }


def test_two_replicas_give_the_losses_of_one_device_for_the_same_global_batch(runs):
    """Each replica averages its losses over the global batch and the loop sums them: a wrong
    scaling would show as twice (or half) the one-device loss. The first step's losses are
    not identical: the replicas draw other z than the one device, and BatchNorm normalises
    each replica's half batch (measured: the four losses at most 17 % apart, below). The
    two-replica step is the first of the run stopped after two steps."""
    one, two = runs["one_device"], runs["stopped"]
    assert one["replicas"] == 1 and two["replicas"] == 2
    assert one["first_step_logs"] == one["logs"]  # a 1-step run: its first step is its last
    losses = ("d_loss", "g_loss", "d_real", "d_fake")
    # Measured 2026-12-07 (docs/tests.md, Margins; AMD EPYC AVX-512 / oneDNN capped at AVX2):
    # the four losses at most 0.174 / 0.174 apart (a wrong scaling: 1.0, twice or half).
    measured(
        "first step's losses, 2 replicas against 1 device, largest relative difference",
        largest_relative_difference(
            {n: two["first_step_logs"][n] for n in losses}, {n: one["logs"][n] for n in losses}
        ),
        0.25,
    )
    for name in losses:
        assert two["first_step_logs"][name] == pytest.approx(one["logs"][name], rel=0.25), name


def test_replicas_draw_different_z_and_keep_identical_weights_and_averages(runs):
    """Trainable weights and G's average are mirrored; BatchNorm's moving statistics are
    Keras' sync-on-read variables (each replica keeps its own, read as their mean), so they
    are not compared."""
    whole = runs["whole"]
    assert whole["z_differ_across_replicas"]
    assert whole["weights_equal_across_replicas"] and whole["average_equal_across_replicas"]
    assert whole["g_steps"] == whole["average_updates"] == 4


def test_a_run_stopped_under_the_strategy_resumes_where_it_stopped(runs):
    stopped, resumed, whole = runs["stopped"], runs["resumed"], runs["whole"]
    assert stopped["g_steps"] == 2 and resumed["g_steps"] == 4 == resumed["average_updates"]
    # Measured 2026-12-07 (docs/tests.md, Margins; AMD EPYC AVX-512 / oneDNN capped at AVX2):
    # 0 / 0 for both.
    measured(
        "weight average's sum, resumed against whole, relative difference",
        largest_relative_difference(resumed["average_sum"], whole["average_sum"]),
        1e-4,
    )
    measured(
        "last losses, resumed against whole, largest relative difference",
        largest_relative_difference(
            {n: resumed["logs"][n] for n in ("d_loss", "g_loss")},
            {n: whole["logs"][n] for n in ("d_loss", "g_loss")},
        ),
        1e-3,
    )
    assert resumed["average_sum"] == pytest.approx(whole["average_sum"], rel=1e-4)
    for name in ("d_loss", "g_loss"):
        assert resumed["logs"][name] == pytest.approx(whole["logs"][name], rel=1e-3), name


def test_run_fn_trains_and_exports_under_the_mirrored_setting_on_two_devices(module_tmp):
    """The Trainer's entry point, as TFX calls it, with distribute_strategy="mirrored" on a
    machine with two (logical CPU) devices: it trains on both and exports a working G."""
    result = run_worker(module_tmp("run_fn"), 2, "run_fn")
    assert result["replicas"] == 2
    assert "Training on 2 replicas (MirroredStrategy), 8 images each per step" in result["stdout"]
    assert "Trainer: oneDNN kernels on (" in result["stdout"]
    assert result["images_shape"] == [4, 64, 64, 3] and result["pixel_std"] > 0
