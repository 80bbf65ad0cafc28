"""Shared test set-up: Keras 2 before TensorFlow, quiet TF logs, the repository on sys.path."""

import os
import shutil
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import tf_environment  # noqa: E402, F401  (set before TensorFlow loads)

pytest_plugins = ["ci_skips"]  # under CI a skip fails the run unless the machine lacks a feature


@pytest.fixture
def small_disk(tmp_path):
    """A 1 GB filesystem of its own at tmp_path/disk (see small_disk.py): room for three
    checkpoints of the default DCGAN (about 210 MB each), two kept and one being written."""
    from small_disk import SmallDisk

    disk = SmallDisk(tmp_path / "disk", size_mb=1024)
    yield disk
    disk.unmount()


@pytest.fixture(scope="module")
def module_tmp(tmp_path_factory, request):
    """mktemp(name) for a test module's shared set-ups. The folders are removed once the
    module's tests are done, unless one failed: tmp_path_retention_policy = "failed" does the
    same for each test's tmp_path (pyproject.toml), and the shared pipeline runs, checkpoints
    and full-disk images of every module together would not fit on a small CI disk."""
    made, failed_before = [], request.session.testsfailed

    def mktemp(name: str) -> Path:
        made.append(tmp_path_factory.mktemp(name))
        return made[-1]

    yield mktemp
    if request.session.testsfailed == failed_before:
        for path in made:
            shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def tiny_command_run(tmp_path_factory):
    """(root, Attempt): one uninterrupted run of the tiny pipeline as `make run` runs it, in a
    process of its own, with no network beyond loopback where the machine allows it (the
    README's "offline"; under CI it must). Shared, as the most expensive set-up of the suite:
    the console test reads its output, the fault tests compare against it and time their kills
    by it, the end-to-end tests read its artifacts."""
    from pipeline_attempts import can_cut_the_network, run_to_end

    offline = can_cut_the_network()
    if not offline and os.environ.get("CI"):
        pytest.fail(
            "under CI the shared tiny run must run offline, but `unshare --net` is refused here"
        )
    root = tmp_path_factory.mktemp("tiny_run")
    return root, run_to_end(root, "run", offline=offline)


@pytest.fixture(scope="session")
def gated_runs(tmp_path_factory):
    """(config, (outputs, summary) of run 1, (outputs, summary) of run 2): two tiny runs on one
    output root with the baseline resolver on and scalars every step. Run 1 is blessed and
    pushed; run 2 trains one step more with baseline_fd_tolerance=-1.0, so it would need an FD
    of at most (1 - 1) x run 1's, that is 0, and is held back whatever it learned. The summary
    is the runner's closing text, which writes the run's report page.
    Shared by the gate and the report tests."""
    import contextlib
    import io

    from tiny_pipeline import tiny_config

    from pipeline import run_local
    from reporting.run_outputs import read_run_outputs

    def run_and_summarize(config):
        run_local.run(config)
        summary = io.StringIO()
        with contextlib.redirect_stdout(summary):
            run_local.print_summary(config, seconds=0.0)
        return read_run_outputs(config.metadata_path), summary.getvalue()

    config = tiny_config(
        tmp_path_factory.mktemp("gated"), log_every_steps=1, eval_compare_with_baseline=True
    )
    run_local.prepare_data(config)
    first = run_and_summarize(config)
    second = run_and_summarize(config.with_overrides(train_steps=3, baseline_fd_tolerance=-1.0))
    return config, first, second


@pytest.fixture(scope="module")
def not_a_generator(module_tmp):
    """A SavedModel whose serving_default maps x to y, as any other model might: what the CLI
    and the studio must refuse with one line."""
    import tensorflow as tf

    module = tf.Module()
    module.double = tf.function(
        lambda x: {"y": 2 * x}, input_signature=[tf.TensorSpec([None], tf.float32, name="x")]
    )
    path = str(module_tmp("other") / "model")
    tf.saved_model.save(module, path, signatures={"serving_default": module.double})
    return path
