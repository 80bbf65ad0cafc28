"""The training loop's side jobs, each a small callback (SideJob) with its own schedule: the
progress bar, TensorBoard scalars, sample grids, the quality probe and a per-step hook (the
checkpoints are trainer_module/checkpoints.py). The loop that calls them is
trainer_module/training_loop.py.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf
import tf_keras as keras

from common import PROBE_SECONDS, PROGRESS_GIF, QUALITY_PREFIX, REAL_VS_REAL_PREFIX
from trainer_module import images
from trainer_module.batchnorm import ExportView

if TYPE_CHECKING:  # the probe pulls in the evaluator's metrics; only run_fn needs them
    from trainer_module.quality_probe import QualityProbe

SCALARS = ("d_loss", "g_loss", "d_real", "d_fake")
GRID_LATENT_SEED = 2024  # the fixed z of the Trainer's sample grids, the same in every run


@dataclasses.dataclass(frozen=True)
class LoopSettings:
    steps: int
    global_batch_size: int
    steps_per_epoch: int
    checkpoint_dir: str
    checkpoint_every_steps: int
    log_dir: str | None  # TensorBoard; None = no event files
    log_every_steps: int
    eval_every_steps: int  # quality probe (QualityScores) every N steps and at the last; 0 = off


class SideJob:
    """One side job of the training loop, a callback around the compiled step (Keras'
    on_train_begin / on_train_batch_end / on_train_end).

    train() calls `begin` once after restoring (with the step it resumes from and the run's
    LoopSettings, from which a job reads its schedule, as Keras callbacks read their params),
    `after_step` after every completed step, and `end` after the last step. Each does nothing
    unless a job overrides it. No job depends on another or on its place in the list: the loop
    itself sets the step every summary goes to and stops on a non-finite loss before any job
    sees the step.

    `logs` holds the step's losses as floats on the steps where the loop reads them back from
    the device: every `log_every_steps` steps, the last step, and any step a job asks for with
    `needs_logs`. On the other steps it is None: reading back every step would make the host
    wait for the device at every step, which idles a GPU.
    """

    def begin(self, start_step: int, settings: LoopSettings) -> None:
        pass

    def needs_logs(self, step: int) -> bool:
        return False

    def after_step(self, step: int, logs: dict | None) -> None:
        pass

    def end(self, last_step: int) -> None:
        pass


class ProgressBar(SideJob):
    """The Keras progress bar: losses and images/s, moved on at the steps whose losses are read
    back."""

    def __init__(self):
        self.bar = self.throughput = None

    def begin(self, start_step: int, settings: LoopSettings) -> None:
        self.bar = keras.utils.Progbar(
            settings.steps, stateful_metrics=["d_loss", "g_loss", "img/s"]
        )
        self.throughput = Throughput(settings.global_batch_size, start_step)

    def after_step(self, step: int, logs: dict | None) -> None:
        if logs is None:
            return
        self.bar.update(
            step,
            values=[
                ("d_loss", logs["d_loss"]),
                ("g_loss", logs["g_loss"]),
                ("img/s", self.throughput.tick(step)),
            ],
        )


class TensorBoardScalars(SideJob):
    """The SCALARS and images/s every `log_every_steps` steps and at the last (the loop has set
    the summaries' step)."""

    def __init__(self):
        self.every = self.last_step = 0
        self.throughput = None

    def begin(self, start_step: int, settings: LoopSettings) -> None:
        self.every, self.last_step = settings.log_every_steps, settings.steps
        self.throughput = Throughput(settings.global_batch_size, start_step)

    def after_step(self, step: int, logs: dict | None) -> None:
        if logs is None:
            return
        images_per_second = self.throughput.tick(step)  # over the read-backs, as the bar's
        if due(step, self.every, self.last_step):
            for name in SCALARS:
                tf.summary.scalar(name, logs[name])
            tf.summary.scalar("images_per_second", images_per_second)


class StepHook(SideJob):
    """Calls `on_step(step)` after each completed step (the benchmarks report progress so)."""

    def __init__(self, on_step: Callable[[int], None]):
        self.on_step = on_step

    def after_step(self, step: int, logs: dict | None) -> None:
        self.on_step(step)


class Throughput:
    """Images/s over the last few read-backs (the first step's tracing would skew a running
    mean); between read-backs the host does not wait for the device, so only they time it."""

    def __init__(self, batch_size: int, start_step: int, window: int = 10):
        self.batch_size = batch_size
        self.ticks = collections.deque(maxlen=window + 1)  # (seconds, step)
        self.tick(start_step)

    def tick(self, step: int) -> float:
        self.ticks.append((time.perf_counter(), step))
        if len(self.ticks) < 2:
            return 0.0
        (first, first_step), (last, last_step) = self.ticks[0], self.ticks[-1]
        return (last_step - first_step) * self.batch_size / (last - first)


def due(step: int, every: int, last_step: int) -> bool:
    """Every `every` steps and at the last one; never when `every` is 0 (off)."""
    return every > 0 and (step % every == 0 or step == last_step)


class SampleGrids(SideJob):
    """A grid of G(z) for one fixed z after every epoch (PNG + TensorBoard), and a GIF of them.

    As a side job: `epoch_NNN` after every `steps_per_epoch` steps, and `final` at the end when
    the last step is not an epoch's end (or no grid was drawn in this run).

    Each grid shows what an export at that moment would draw: a copy of G gets the current
    weights and re-estimated BatchNorm statistics (as before export), because mid-training the
    moving averages still hold their initial values and the live G would draw flat grey. The
    live G's statistics are not touched.
    """

    def __init__(
        self, view: ExportView, out_dir: str, grid_size: int, seed: int = GRID_LATENT_SEED
    ):
        self.view = view
        self.out_dir = out_dir
        self.grid_size = grid_size
        self.z = view.inputs(grid_size * grid_size, seed)
        self.frames = []
        self.steps_per_epoch = 0

    def begin(self, start_step: int, settings: LoopSettings) -> None:
        self.steps_per_epoch = settings.steps_per_epoch

    def after_step(self, step: int, logs: dict | None) -> None:
        if step % self.steps_per_epoch == 0:
            self.record(f"epoch_{step // self.steps_per_epoch:03d}")

    def end(self, last_step: int) -> None:
        if not self.frames or last_step % self.steps_per_epoch:
            self.record("final")

    def record(self, label: str) -> str:
        samples = self.view.refresh()(self.z, training=False).numpy()
        path = os.path.join(self.out_dir, f"{label}.png")
        self.frames.append(images.save_image_grid(samples, path, columns=self.grid_size))
        tf.summary.image("samples", np.asarray(self.frames[-1])[None], step=None)
        return path

    def save_gif(self) -> str | None:
        if not self.frames:
            return None
        path = os.path.join(self.out_dir, PROGRESS_GIF)
        images.save_gif(self.frames, path)
        return path


class QualityScores(SideJob):
    """How good an export would be now, as TensorBoard scalars: as a side job every
    `eval_every_steps` steps and at the last (never when it is 0), or wherever `record` is called.

    The probe scores what an export would draw (`view`, as the sample grids) with the
    evaluator's metric code on a small fixed sample, so the curve shows quality next to the
    losses, which say little about it in a GAN. Each call's own cost goes to
    quality/probe_seconds and is summed, so its share of the training time can be read off.
    `real_vs_real` (the same probe scoring other real training images, computed once before
    training) is written at step 0: the ceiling the curves are read against. At the end it
    prints its cost against the training loop's time (`cost_line`).
    """

    def __init__(
        self,
        probe: QualityProbe,
        view: ExportView,
        real_vs_real: dict | None = None,
        setup_seconds: float = 0.0,
    ):
        self.probe = probe
        self.view = view
        self.real_vs_real = real_vs_real
        self.setup_seconds = setup_seconds  # the reference's features and real-vs-real
        self.seconds = 0.0
        self.calls = 0
        self.every = self.last_step = 0
        self.started = 0.0

    def begin(self, start_step: int, settings: LoopSettings) -> None:
        self.every, self.last_step = settings.eval_every_steps, settings.steps
        self.started = time.perf_counter()

    def end(self, last_step: int) -> None:
        print(self.cost_line(time.perf_counter() - self.started))

    def after_step(self, step: int, logs: dict | None) -> None:
        if due(step, self.every, self.last_step):
            self.record(step)

    def record(self, step: int) -> dict:
        """Scores G now and writes quality/<metric> at `step`; returns the values by metric."""
        started = time.perf_counter()
        values = metric_values(self.probe.score(self.view))
        seconds = time.perf_counter() - started
        if self.real_vs_real is not None and self.calls == 0:  # once per run (again if resumed)
            for name, value in metric_values(self.real_vs_real).items():
                tf.summary.scalar(REAL_VS_REAL_PREFIX + name, value, step=0)
        for name, value in values.items():
            tf.summary.scalar(QUALITY_PREFIX + name, value, step=step)
        tf.summary.scalar(PROBE_SECONDS, seconds, step=step)
        self.seconds += seconds
        self.calls += 1
        return values

    def cost_line(self, training_seconds: float) -> str:
        """One line on what the probe cost, to weigh it against how often it runs."""
        share = 100.0 * self.seconds / training_seconds if training_seconds > 0 else 0.0
        calls = f"{self.calls} call{'' if self.calls == 1 else 's'}"
        return (
            f"Quality probe: {self.seconds:.1f} s in {calls}, {share:.1f} % of the "
            f"{training_seconds:.1f} s training loop (plus {self.setup_seconds:.1f} s before "
            "it for the reference and real-vs-real)"
        )


def metric_values(probe_values: dict) -> dict:
    """The probe's 'fid/random_embedding' keys as 'fid': the probe has a single extractor."""
    return {key.split("/")[0]: float(value) for key, value in probe_values.items()}
