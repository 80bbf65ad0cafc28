"""The training loop: resume after SIGKILL, divergence stop, determinism, what it writes."""

import dataclasses
import glob
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from gan_evaluator_testing import blob_pixels
from margins import largest_relative_difference, measured, tolerance_used

import trainer_module
from pipeline import disk_full
from pipeline_config import PipelineConfig
from trainer_module import run
from trainer_module.batchnorm import ExportView, refresh_batchnorm_statistics
from trainer_module.checkpoints import (
    CheckpointNotWritten,
    Checkpoints,
    CheckpointsBeyondSteps,
    CheckpointsUnreadable,
)
from trainer_module.quality_probe import QualityProbe
from trainer_module.run import build_dcgan
from trainer_module.settings import TrainerSettings
from trainer_module.side_jobs import (
    LoopSettings,
    ProgressBar,
    QualityScores,
    SampleGrids,
    SideJob,
    StepHook,
    TensorBoardScalars,
)
from trainer_module.training_loop import TrainingDiverged, standard_jobs, train

WORKER = Path(__file__).with_name("train_worker.py")
CHECKPOINT_EVERY = 3  # as in train_worker.py
STEPS = 12
PROBE_SAMPLES = 20  # tiny: the probe's values are only checked for shape and range here
QUALITY_METRICS = ("fid", "kid", "precision", "recall", "density", "coverage")


def start_worker(checkpoint_dir, steps, weights_out, kill_during_save=""):
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(checkpoint_dir), str(steps), str(weights_out)]
        + ([kill_during_save] if kill_during_save else []),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def steps_in(output: str) -> list:
    """The worker's "step N" lines (the progress bar may share a line with one: no newline)."""
    return [int(step) for step in re.findall(r"(?<!at )step (\d+)$", output, re.MULTILINE)]


def load_weights(path):
    with np.load(path) as data:
        return [data[k] for k in sorted(data.files, key=lambda k: int(k.split("_")[1]))]


@pytest.fixture(scope="module")
def uninterrupted_weights(module_tmp):
    """The weights after STEPS steps of train_worker.py, never interrupted."""
    folder = module_tmp("uninterrupted")
    reference = start_worker(folder / "ckpt", STEPS, folder / "reference.npz")
    assert reference.wait(timeout=300) == 0
    return load_weights(folder / "reference.npz")


def run_worker_to_end(checkpoint_dir, weights_out) -> str:
    worker = start_worker(checkpoint_dir, STEPS, weights_out)
    out, _ = worker.communicate(timeout=300)
    assert worker.returncode == 0
    return out


def assert_same_weights(path, expected):
    resumed = load_weights(path)
    # Measured 2026-12-07 (docs/tests.md, Margins; AMD EPYC AVX-512 / oneDNN capped at AVX2): 0 / 0.
    measured(
        "weights after a resume, share of the tolerance used",
        max(tolerance_used(a, b, rtol=1e-5, atol=1e-6) for a, b in zip(resumed, expected)),
        1.0,
    )
    for resumed_weight, reference in zip(resumed, expected):
        np.testing.assert_allclose(resumed_weight, reference, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
@pytest.mark.fault("kill -9 part-way through", "Trainer")
def test_sigkill_then_restart_continues_from_the_last_checkpoint(tmp_path, uninterrupted_weights):
    worker = start_worker(tmp_path / "ckpt", STEPS, tmp_path / "never.npz")
    last_step = 0
    deadline = time.time() + 300
    for line in worker.stdout:  # kill part-way, just after step 7 (checkpoint at 6)
        last_step = (steps_in(line) or [last_step])[-1]
        if last_step >= 7 or time.time() > deadline:
            worker.send_signal(signal.SIGKILL)
            break
    worker.wait(timeout=60)
    assert worker.returncode == -signal.SIGKILL and not (tmp_path / "never.npz").exists()

    out = run_worker_to_end(tmp_path / "ckpt", tmp_path / "resumed.npz")
    resumed_at = int(out.split("at step ")[1].split()[0])
    assert last_step - CHECKPOINT_EVERY <= resumed_at <= last_step  # at most one interval lost
    steps_run = steps_in(out)
    assert steps_run == list(range(resumed_at + 1, STEPS + 1))  # the count continues
    assert_same_weights(tmp_path / "resumed.npz", uninterrupted_weights)


@pytest.mark.slow
@pytest.mark.fault("kill -9 inside a checkpoint write", "Trainer")
def test_sigkill_inside_checkpoint_writes_resumes_from_the_last_whole_one(
    tmp_path, uninterrupted_weights
):
    """Killed while the step-6 data file is half written, then (resumed at 3) after the step-9
    files are whole but before the index names them: each rerun resumes from the newest
    checkpoint the index names, and the end equals an uninterrupted run."""
    ckpt = tmp_path / "ckpt"
    for stage, expected in (
        ("data:0.5", "killed with the data file at"),
        ("state", "killed after the checkpoint's files were written"),
    ):
        worker = start_worker(ckpt, STEPS, tmp_path / "never.npz", stage)
        out, _ = worker.communicate(timeout=300)
        assert worker.returncode == -signal.SIGKILL and expected in out, out[-500:]
        if stage.startswith("data"):
            assert [p.name for p in ckpt.glob("*_temp")] == ["ckpt-6_temp"]  # the cut write
            cut_bytes = int(re.search(r"data file at (\d+) of", out).group(1))
    out = run_worker_to_end(ckpt, tmp_path / "resumed.npz")
    assert f"Resuming from {ckpt / 'ckpt-6'} at step 6" in out  # 9's files, never indexed
    assert not list(ckpt.glob("*_temp"))  # the cut write's leftovers are gone
    # The finished checkpoints (the newest two kept) are all of one size: the same variables.
    [whole_bytes] = {path.stat().st_size for path in ckpt.glob("ckpt-*.data-*")}
    assert 0 < cut_bytes < whole_bytes, (
        f"the kill was meant to land mid-write: it saw {cut_bytes} bytes of {whole_bytes}"
    )
    assert_same_weights(tmp_path / "resumed.npz", uninterrupted_weights)


def test_a_rerun_after_the_training_code_changed_does_not_resume_old_checkpoints(tmp_path):
    """The resume folder is keyed by the training code too: the same settings and data with a
    changed network module give another folder, the same code the same one."""
    settings = TrainerSettings.of(PipelineConfig())

    def resume_dir(code):
        return run.resume_dir(settings, "/transform", ["/train/*"], code)

    code = tmp_path / "trainer_module"
    shutil.copytree(os.path.dirname(trainer_module.__file__), code)
    assert resume_dir(str(code)) == resume_dir(run.TRAINING_CODE)
    with open(code / "networks.py", "a") as f:
        f.write("\n# a changed line\n")
    assert resume_dir(str(code)) != resume_dir(run.TRAINING_CODE)
    assert os.path.dirname(resume_dir(str(code))) == settings.checkpoint_root


def test_a_rerun_with_a_changed_config_or_input_does_not_resume_old_checkpoints():
    """Any setting, the Transform output or the train files changed: another resume folder,
    so a rerun starts afresh; the same ones: the same folder, so a crashed run resumes."""
    settings = TrainerSettings.of(PipelineConfig())
    base = run.resume_dir(settings, "/transform/1", ["/train/*"])
    assert (
        run.resume_dir(TrainerSettings.of(PipelineConfig()), "/transform/1", ["/train/*"]) == base
    )
    changed = [
        run.resume_dir(dataclasses.replace(settings, **{name: value}), "/transform/1", ["/train/*"])
        for name, value in (
            ("batch_size", 64),
            ("train_seed", 1),
            ("g_learning_rate", 1e-4),
            ("mismatch_weight", 0.5),
        )
    ]
    changed += [
        run.resume_dir(settings, "/transform/2", ["/train/*"]),
        run.resume_dir(settings, "/transform/1", ["/other_train/*"]),
    ]
    assert len(set(changed)) == len(changed) and base not in changed


def test_bookkeeping_settings_keep_the_resume_folder():
    """How often the loop logs, probes, checkpoints and how big its grids are: a rerun that
    changes only those resumes the same checkpoints (the weights do not depend on them: the
    next test)."""
    settings = TrainerSettings.of(PipelineConfig())
    base = run.resume_dir(settings, "/transform/1", ["/train/*"])
    for name, value in (
        ("log_every_steps", 1),
        ("eval_every_steps", 0),
        ("probe_samples", 50),
        ("checkpoint_every_steps", 7),
        ("sample_grid_size", 3),
        ("checkpoint_root", "/elsewhere"),
    ):
        changed = dataclasses.replace(settings, **{name: value})
        assert os.path.basename(run.resume_dir(changed, "/transform/1", ["/train/*"])) == (
            os.path.basename(base)
        ), name
    assert set(run.BOOKKEEPING_SETTINGS) < set(settings.to_custom_config())


def tiny_settings(tmp_path, steps, **kw):
    """Checkpoints every 2 steps, 2-step epochs; no TensorBoard or probe unless asked."""
    return LoopSettings(
        **{
            "steps": steps,
            "global_batch_size": 4,
            "steps_per_epoch": 2,
            "checkpoint_dir": str(tmp_path / "ckpt"),
            "checkpoint_every_steps": 2,
            "log_dir": None,
            "log_every_steps": 5,
            "eval_every_steps": 0,
            **kw,
        }
    )


def fixed_batches():
    batch = np.random.default_rng(1).uniform(-1, 1, (4, 64, 64, 3)).astype(np.float32)
    return tf.data.Dataset.from_tensors(batch).repeat()


def test_same_seed_gives_identical_losses_and_weights(tmp_path):
    runs = []
    for name in ("a", "b"):
        gan = build_dcgan(TrainerSettings.of(PipelineConfig()))
        logs = train(gan, fixed_batches(), tiny_settings(tmp_path / name, 3))
        runs.append((logs, gan.generator.get_weights()))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)


def tear(checkpoint_prefix: str) -> None:
    """Cuts a checkpoint's data file in half, as a write interrupted by a reclaimed node."""
    (data,) = tf.io.gfile.glob(checkpoint_prefix + ".data-*")
    with open(data, "r+b") as f:
        f.truncate(os.path.getsize(data) // 2)


@pytest.mark.fault("newest checkpoint torn", "Trainer")
def test_a_torn_newest_checkpoint_is_passed_over_for_the_one_before_it(tmp_path, capsys):
    whole = build_dcgan(TrainerSettings.of(PipelineConfig()))
    expected = train(whole, fixed_batches(), tiny_settings(tmp_path / "whole", 6))
    gan = build_dcgan(TrainerSettings.of(PipelineConfig()))
    train(gan, fixed_batches(), tiny_settings(tmp_path, 4))  # checkpoints at steps 2 and 4
    tear(str(tmp_path / "ckpt" / "ckpt-4"))
    capsys.readouterr()
    resumed = build_dcgan(TrainerSettings.of(PipelineConfig()))
    logs = train(resumed, fixed_batches(), tiny_settings(tmp_path, 6))
    out = capsys.readouterr().out
    assert "ckpt-4 cannot be read" in out and "ckpt-2 at step 2" in out
    assert int(resumed.g_optimizer.iterations) == 6  # steps 3 to 6 on top of the restored 2
    poisoned = fixed_batches().map(lambda x: x * np.nan)
    fresh = build_dcgan(TrainerSettings.of(PipelineConfig()))
    tear(str(tmp_path / "ckpt" / "ckpt-6"))  # resume at 4; the NaN stop names 4, not torn 6
    with pytest.raises(TrainingDiverged, match=r"at step 5; .*ckpt-4$"):
        train(fresh, poisoned, tiny_settings(tmp_path, 8))
    # Measured 2026-12-07 (docs/tests.md, Margins; AMD EPYC AVX-512 / oneDNN capped at AVX2): 0 / 0.
    measured(
        "losses after passing over a torn checkpoint, largest relative difference",
        largest_relative_difference(logs, expected),
        1e-4,
    )
    assert logs == pytest.approx(expected, rel=1e-4)  # as if never interrupted


@pytest.mark.fault("disk full", "Trainer")
def test_a_full_disk_at_a_checkpoint_stops_naming_the_last_good_one_and_a_rerun_resumes(
    tmp_path, small_disk, capsys
):
    expected = train(
        build_dcgan(TrainerSettings.of(PipelineConfig())),
        fixed_batches(),
        tiny_settings(tmp_path / "whole", 6),
    )
    on_small_disk = dataclasses.replace(
        tiny_settings(tmp_path, 6), checkpoint_dir=os.path.join(small_disk.path, "ckpt")
    )
    train(
        build_dcgan(TrainerSettings.of(PipelineConfig())),
        fixed_batches(),
        dataclasses.replace(on_small_disk, steps=2),
    )  # ckpt-2
    small_disk.fill()
    with pytest.raises(
        CheckpointNotWritten,
        match=r"step 4 could not be written in .*No space "
        r"left on device.*last good one is .*ckpt-2,",
    ) as stopped:
        train(build_dcgan(TrainerSettings.of(PipelineConfig())), fixed_batches(), on_small_disk)
    # The runner's one line names the file being written, on the full disk.
    assert disk_full.full_disk_path(stopped.value).startswith(on_small_disk.checkpoint_dir)
    assert not glob.glob(os.path.join(on_small_disk.checkpoint_dir, "*_temp"))  # no leftovers
    small_disk.free()
    capsys.readouterr()
    logs = train(build_dcgan(TrainerSettings.of(PipelineConfig())), fixed_batches(), on_small_disk)
    assert "ckpt-2 at step 2" in capsys.readouterr().out
    # Measured 2026-12-07 (docs/tests.md, Margins; AMD EPYC AVX-512 / oneDNN capped at AVX2): 0 / 0.
    measured(
        "losses after a full disk and a rerun, largest relative difference",
        largest_relative_difference(logs, expected),
        1e-4,
    )
    assert logs == pytest.approx(expected, rel=1e-4)


@pytest.mark.fault("newest checkpoint torn", "Trainer")
def test_when_no_checkpoint_can_be_read_training_stops_instead_of_restarting(tmp_path):
    gan = build_dcgan(TrainerSettings.of(PipelineConfig()))
    train(gan, fixed_batches(), tiny_settings(tmp_path, 4))
    for step in (2, 4):
        tear(str(tmp_path / "ckpt" / f"ckpt-{step}"))
    with pytest.raises(
        CheckpointsUnreadable,
        match="no checkpoint in .* can be read .*ckpt-4.*ckpt-2.*delete the folder",
    ):
        train(
            build_dcgan(TrainerSettings.of(PipelineConfig())),
            fixed_batches(),
            tiny_settings(tmp_path, 6),
        )


def test_losses_are_read_back_every_log_every_steps_at_checkpoints_and_at_the_last(tmp_path):
    calls = []
    settings = tiny_settings(
        tmp_path, 7, log_every_steps=3, steps_per_epoch=1000
    )  # checkpoints: 2s
    gan = build_dcgan(TrainerSettings.of(PipelineConfig()))
    train(
        gan, fixed_batches(), settings, jobs=[*standard_jobs(gan, settings), Recorder("r", calls)]
    )
    read_back = [call[1] for call in calls if isinstance(call[1], int) and call[2] is not None]
    assert read_back == [2, 3, 4, 6, 7]  # 3, 6: log_every_steps; 2, 4, 6: checkpoints; 7: the last


def test_nan_loss_stops_at_the_next_read_back_and_keeps_the_last_checkpoint(tmp_path):
    """Losses NaN from step 3 on; with log_every_steps 5 and checkpoints every 2 steps the next
    read-back is step 4's, before its checkpoint: the stop names step 4 and keeps ckpt-2."""
    gan = build_dcgan(TrainerSettings.of(PipelineConfig()))
    train(gan, fixed_batches(), tiny_settings(tmp_path, 2))  # checkpoint at step 2
    poisoned = fixed_batches().map(lambda x: x * np.nan)
    with pytest.raises(TrainingDiverged, match=r"at step 4; .*ckpt-2"):
        train(gan, poisoned, tiny_settings(tmp_path, 6))
    assert tf.train.latest_checkpoint(str(tmp_path / "ckpt")).endswith("ckpt-2")


def test_the_divergence_stop_runs_before_the_checkpoint_so_the_bad_step_is_never_saved(tmp_path):
    """A checkpoint after every step: a loss that turns NaN at step 3 leaves step 2's as the
    latest, and a restart resumes from it."""
    gan = build_dcgan(TrainerSettings.of(PipelineConfig()))
    nan_from_step_3 = (
        fixed_batches().enumerate().map(lambda index, x: tf.where(index >= 2, x * np.nan, x))
    )
    settings = tiny_settings(tmp_path, 5, steps_per_epoch=1000, checkpoint_every_steps=1)
    with pytest.raises(TrainingDiverged, match=r"at step 3; .*ckpt-2$"):
        train(gan, nan_from_step_3, settings)
    assert tf.train.latest_checkpoint(str(tmp_path / "ckpt")).endswith("ckpt-2")
    restarted = Checkpoints(
        build_dcgan(TrainerSettings.of(PipelineConfig())), settings.checkpoint_dir
    )
    assert restarted.restore() == 2


class Recorder(SideJob):
    """Writes its calls into a list shared with other jobs, under its name."""

    def __init__(self, name, calls):
        self.name, self.calls = name, calls

    def begin(self, start_step, settings):
        self.calls.append((self.name, "begin", start_step, settings.steps))

    def after_step(self, step, logs):
        self.calls.append((self.name, step, None if logs is None else sorted(logs)))

    def end(self, last_step):
        self.calls.append((self.name, "end", last_step))


def every_summary(log_dir) -> list:
    """(tag, step) of every summary in the event files, scalars and sample grids alike."""
    return sorted(
        (value.tag, event.step)
        for event_file in tf.io.gfile.glob(str(log_dir / "*"))
        for event in tf.compat.v1.train.summary_iterator(event_file)
        for value in event.summary.value
    )


def test_the_standard_jobs_work_in_any_order(tmp_path):
    """Reversed, the standard jobs write the same summaries at the same steps (the grids' too),
    the same grids and checkpoints, and a NaN still stops before its step is saved."""
    written = {}
    for order in ("listed", "reversed"):
        gan = build_dcgan(TrainerSettings.of(PipelineConfig()))
        root = tmp_path / order
        samples = SampleGrids(ExportView(gan.generator, 100), str(root / "samples"), grid_size=2)
        settings = tiny_settings(root, 4, log_dir=str(root / "tb"), log_every_steps=1)
        jobs = standard_jobs(gan, settings, samples=samples, on_step=print)
        assert {type(job) for job in jobs} == {
            ProgressBar,
            TensorBoardScalars,
            Checkpoints,
            SampleGrids,
            StepHook,
        }
        if order == "reversed":
            jobs.reverse()
        train(gan, fixed_batches(), settings, jobs=jobs)
        written[order] = (
            every_summary(root / "tb"),
            sorted(os.listdir(root / "samples")),
            sorted(os.listdir(root / "ckpt")),
        )
        poisoned = fixed_batches().map(lambda x: x * np.nan)
        more = dataclasses.replace(settings, steps=6, checkpoint_every_steps=1)
        with pytest.raises(TrainingDiverged, match=r"at step 5; .*ckpt-4$"):
            train(gan, poisoned, more, jobs=jobs)
        assert tf.train.latest_checkpoint(str(root / "ckpt")).endswith("ckpt-4")
    assert written["listed"] == written["reversed"]
    summaries = written["listed"][0]
    assert ("samples", 2) in summaries and ("samples", 4) in summaries
    assert [step for tag, step in summaries if tag == "d_loss"] == [1, 2, 3, 4]


def test_a_resumed_run_begins_its_jobs_at_the_restored_step_and_runs_them_in_order(
    tmp_path, capsys
):
    gan = build_dcgan(TrainerSettings.of(PipelineConfig()))
    train(gan, fixed_batches(), tiny_settings(tmp_path, 3))  # checkpoints at 2 and 3 (the last)
    capsys.readouterr()
    calls = []
    settings = tiny_settings(tmp_path, 5)
    jobs = [Recorder("a", calls), *standard_jobs(gan, settings), Recorder("b", calls)]
    train(gan, fixed_batches(), settings, jobs=jobs)
    assert capsys.readouterr().out.startswith(
        f"Resuming from {tmp_path / 'ckpt' / 'ckpt-3'} at step 3\n"
    )
    logs = sorted(("d_loss", "g_loss", "d_real", "d_fake"))
    assert calls == [
        ("a", "begin", 3, 5),
        ("b", "begin", 3, 5),
        ("a", 4, logs),
        ("b", 4, logs),
        ("a", 5, logs),
        ("b", 5, logs),
        ("a", "end", 5),
        ("b", "end", 5),
    ]


def test_a_run_resumed_at_its_last_step_only_ends_its_jobs(tmp_path):
    """Killed after the last checkpoint but before the Trainer finished: the rerun has no step
    to run, and its jobs' ends (the final grid and its summary) still work."""
    settings = tiny_settings(tmp_path, 2, log_dir=str(tmp_path / "tb"), log_every_steps=1)
    train(build_dcgan(TrainerSettings.of(PipelineConfig())), fixed_batches(), settings)
    gan = build_dcgan(TrainerSettings.of(PipelineConfig()))
    samples = SampleGrids(ExportView(gan.generator, 100), str(tmp_path / "samples"), grid_size=2)
    assert (
        train(gan, fixed_batches(), settings, jobs=standard_jobs(gan, settings, samples=samples))
        == {}
    )
    assert os.listdir(tmp_path / "samples") == ["final.png"]
    assert int(gan.g_optimizer.iterations) == 2


def test_a_rerun_with_more_steps_trains_on_and_with_fewer_stops_and_says_so(tmp_path):
    """Training on: the rerun resumes at the checkpoint's step. Fewer steps than the checkpoint
    cannot be had from it, and the model is not passed off as the shorter run's."""
    gan = build_dcgan(TrainerSettings.of(PipelineConfig()))
    train(gan, fixed_batches(), tiny_settings(tmp_path, 4))
    on = build_dcgan(TrainerSettings.of(PipelineConfig()))
    train(on, fixed_batches(), tiny_settings(tmp_path, 6))
    assert int(on.g_optimizer.iterations) == 6
    with pytest.raises(CheckpointsBeyondSteps, match="at step 6, beyond the 5 steps asked for"):
        train(
            build_dcgan(TrainerSettings.of(PipelineConfig())),
            fixed_batches(),
            tiny_settings(tmp_path, 5),
        )


def test_sample_grids_gif_and_tensorboard_are_written(tmp_path):
    gan = build_dcgan(TrainerSettings.of(PipelineConfig()))
    samples = SampleGrids(ExportView(gan.generator, 100), str(tmp_path / "samples"), grid_size=2)
    settings = tiny_settings(tmp_path, 4, log_dir=str(tmp_path / "tb"), log_every_steps=1)
    train(gan, fixed_batches(), settings, jobs=standard_jobs(gan, settings, samples=samples))
    gif = samples.save_gif()
    assert sorted(os.listdir(tmp_path / "samples")) == [
        "epoch_001.png",
        "epoch_002.png",
        "progress.gif",
    ]
    from PIL import Image

    with Image.open(gif) as image:
        assert image.n_frames == 2 and image.size == (2 * 64 + 2, 2 * 64 + 2)
    tags = set()
    for event_file in tf.io.gfile.glob(str(tmp_path / "tb" / "*")):
        for event in tf.compat.v1.train.summary_iterator(event_file):
            tags.update(value.tag for value in event.summary.value)
    assert {"d_loss", "g_loss", "d_real", "d_fake", "samples"} <= tags


def test_sample_grids_draw_what_an_export_would_and_leave_the_live_statistics(tmp_path):
    """After training steps the live G's moving averages are near their initial values; the grid
    comes from a copy with re-estimated statistics, as the exported G will have."""
    gan = build_dcgan(TrainerSettings.of(PipelineConfig()))
    train(gan, fixed_batches(), tiny_settings(tmp_path, 2))
    moving = [w.numpy().copy() for w in gan.generator.non_trainable_weights]
    samples = SampleGrids(ExportView(gan.generator, 100), str(tmp_path / "samples"), grid_size=2)
    samples.record("now")
    for before, after in zip(moving, gan.generator.non_trainable_weights):
        np.testing.assert_array_equal(before, after.numpy())
    refresh_batchnorm_statistics(gan.generator, 100, batches=4, batch_size=64)
    exported = gan.generator(samples.z, training=False).numpy()
    preview = samples.view.copy(samples.z, training=False).numpy()
    # Measured 2026-12-07 (docs/tests.md, Margins; AMD EPYC AVX-512 / oneDNN capped at AVX2): 0 / 0.
    measured(
        "grid preview against the exported G, largest difference (model range -1..1)",
        np.abs(preview - exported).max(),
        0.05,
    )
    np.testing.assert_allclose(preview, exported, atol=0.05)


def scalar_events(log_dir) -> dict:
    """tag -> {step: value} of every scalar in the event files, read back as TensorBoard does."""
    scalars = {}
    for event_file in tf.io.gfile.glob(str(log_dir / "*")):
        for event in tf.compat.v1.train.summary_iterator(event_file):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "scalars":  # not the sample grids
                    scalars.setdefault(value.tag, {})[event.step] = float(
                        tf.make_ndarray(value.tensor)
                    )
    return scalars


@pytest.fixture(scope="module")
def probe_and_ceiling():
    """A probe over 20 smooth blob images, and its score of 20 other ones (real vs real)."""
    real = blob_pixels(np.random.default_rng(0), 2 * PROBE_SAMPLES)
    probe = QualityProbe([real[:PROBE_SAMPLES]], PROBE_SAMPLES, z_dim=100)
    return probe, probe.score_images(real[PROBE_SAMPLES:])


def test_quality_scores_are_written_every_n_steps_and_at_the_last(tmp_path, probe_and_ceiling):
    probe, real_vs_real = probe_and_ceiling
    gan = build_dcgan(TrainerSettings.of(PipelineConfig()))
    quality = QualityScores(probe, ExportView(gan.generator, 100), real_vs_real)
    settings = tiny_settings(tmp_path, 4, log_dir=str(tmp_path / "tb"), eval_every_steps=3)
    train(gan, fixed_batches(), settings, jobs=standard_jobs(gan, settings, quality=quality))
    scalars = scalar_events(tmp_path / "tb")
    metric_tags = {f"quality/{name}" for name in QUALITY_METRICS}
    assert {tag for tag in scalars if tag.startswith("quality/")} == metric_tags | {
        "quality/probe_seconds"
    }
    for tag in metric_tags:
        assert sorted(scalars[tag]) == [3, 4]  # every 3 steps, and the last
        assert all(math.isfinite(value) for value in scalars[tag].values())
    for name in ("precision", "recall", "coverage"):
        assert all(0.0 <= value <= 1.0 for value in scalars[f"quality/{name}"].values())
    assert all(value > 0 for value in scalars["quality/probe_seconds"].values())
    # The ceiling once, at step 0, with the probe's own real-vs-real values.
    for name in QUALITY_METRICS:
        assert scalars[f"quality_real_vs_real/{name}"] == {
            0: pytest.approx(real_vs_real[f"{name}/random_embedding"])
        }
    assert quality.calls == 2
    assert quality.seconds == pytest.approx(
        sum(scalars["quality/probe_seconds"].values()), rel=1e-5
    )
    line = quality.cost_line(training_seconds=4 * quality.seconds)
    assert line.startswith("Quality probe: ") and " in 2 calls, 25.0 % of " in line


def test_eval_every_zero_writes_no_quality_scores(tmp_path, probe_and_ceiling):
    probe, real_vs_real = probe_and_ceiling
    gan = build_dcgan(TrainerSettings.of(PipelineConfig()))
    quality = QualityScores(probe, ExportView(gan.generator, 100), real_vs_real)
    settings = tiny_settings(
        tmp_path, 2, log_dir=str(tmp_path / "tb"), log_every_steps=1, eval_every_steps=0
    )
    train(gan, fixed_batches(), settings, jobs=standard_jobs(gan, settings, quality=quality))
    tags = set(scalar_events(tmp_path / "tb"))
    assert "d_loss" in tags and not any(tag.startswith("quality") for tag in tags)
    assert quality.calls == 0
