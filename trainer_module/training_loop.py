"""The loop around DCGAN.train_step: checkpoints and resume, progress, TensorBoard, divergence stop,
and its side jobs (sample grids, the quality probe).

The step runs as one tf.function called from Python (Keras `fit` ran the same step 8 % slower
on these CPUs). Everything a resumed run needs is in the checkpoint: both networks, both
optimizers, the step counter and the random generator's state.
"""
from __future__ import annotations

import collections
import dataclasses
import math
import os
import time
from typing import TYPE_CHECKING, Callable, Optional

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402

from trainer_module import images  # noqa: E402
from trainer_module.batchnorm import ExportView  # noqa: E402
from trainer_module.dcgan import DCGAN  # noqa: E402

if TYPE_CHECKING:  # the probe pulls in the evaluator's metrics; only run_fn needs them
    from trainer_module.quality_probe import QualityProbe

SCALARS = ("d_loss", "g_loss", "d_real", "d_fake")
# TensorBoard tags of the quality probe: quality/<metric>, quality/probe_seconds, and the
# real-vs-real ceiling quality_real_vs_real/<metric> at step 0 (read back by the run report).
QUALITY_PREFIX = "quality/"
REAL_VS_REAL_PREFIX = "quality_real_vs_real/"
PROBE_SECONDS = QUALITY_PREFIX + "probe_seconds"


class TrainingDiverged(FloatingPointError):
    """A loss became NaN or Inf; the message names the step and the last good checkpoint."""


@dataclasses.dataclass(frozen=True)
class LoopSettings:
    steps: int
    global_batch_size: int
    steps_per_epoch: int
    checkpoint_dir: str
    checkpoint_every: int
    log_dir: Optional[str] = None  # TensorBoard; None = no event files
    log_every: int = 10
    eval_every: int = 0  # quality probe (QualityScores) every N steps and at the last; 0 = off


class SampleGrids:
    """A grid of G(z) for one fixed z after every epoch (PNG + TensorBoard), and a GIF of them.

    Each grid shows what an export at that moment would draw: a copy of G gets the current
    weights and re-estimated BatchNorm statistics (as before export), because mid-training the
    moving averages still hold their initial values and the live G would draw flat grey. The
    live G's statistics are not touched.
    """

    def __init__(self, view: ExportView, out_dir: str, grid_size: int = 8, seed: int = 2024):
        self.view = view
        self.out_dir = out_dir
        self.grid_size = grid_size
        self.z = np.random.default_rng(seed).standard_normal(
            (grid_size * grid_size, view.z_dim)).astype(np.float32)
        self.frames = []

    def record(self, label: str) -> str:
        samples = self.view.refresh()(self.z, training=False).numpy()
        path = os.path.join(self.out_dir, f"{label}.png")
        self.frames.append(images.save_image_grid(samples, path, columns=self.grid_size))
        tf.summary.image("samples", np.asarray(self.frames[-1])[None], step=None)
        return path

    def save_gif(self) -> Optional[str]:
        if not self.frames:
            return None
        path = os.path.join(self.out_dir, "progress.gif")
        images.save_gif(self.frames, path)
        return path


class QualityScores:
    """How good an export would be now, as TensorBoard scalars, at the steps train() calls it.

    The probe scores what an export would draw (`view`, as the sample grids) with the
    evaluator's metric code on a small fixed sample, so the curve shows quality next to the
    losses, which say little about it in a GAN. Each call's own cost goes to
    quality/probe_seconds and is summed, so its share of the training time can be read off.
    `real_vs_real` (the same probe scoring other real training images, computed once before
    training) is written at step 0: the ceiling the curves are read against.
    """

    def __init__(self, probe: QualityProbe, view: ExportView,
                 real_vs_real: Optional[dict] = None, setup_seconds: float = 0.0):
        self.probe = probe
        self.view = view
        self.real_vs_real = real_vs_real
        self.setup_seconds = setup_seconds  # the reference's features and real-vs-real
        self.seconds = 0.0
        self.calls = 0

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
        return (f"Quality probe: {self.seconds:.1f} s in {calls}, {share:.1f} % of the "
                f"{training_seconds:.1f} s training loop (plus {self.setup_seconds:.1f} s before "
                "it for the reference and real-vs-real)")


def metric_values(probe_values: dict) -> dict:
    """The probe's 'fid/random_embedding' keys as 'fid': the probe has a single extractor."""
    return {key.split("/")[0]: float(value) for key, value in probe_values.items()}


def _checkpoint(gan: DCGAN, step: tf.Variable) -> tf.train.Checkpoint:
    return tf.train.Checkpoint(generator=gan.generator, discriminator=gan.discriminator,
                               g_optimizer=gan.g_optimizer, d_optimizer=gan.d_optimizer,
                               rng=gan.rng, step=step)


def _distributed_step(gan: DCGAN, strategy: tf.distribute.Strategy) -> Callable:
    """One train_step on every replica, losses summed (each is already a global-batch mean)."""

    @tf.function
    def step(batch):
        per_replica = strategy.run(gan.train_step, args=(batch,))
        return {name: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
                for name, value in per_replica.items()}

    return step


class _Throughput:
    """Images/s over the last few steps (the first step's tracing would skew a running mean)."""

    def __init__(self, batch_size: int, window: int = 10):
        self.batch_size = batch_size
        self.times = collections.deque(maxlen=window + 1)

    def tick(self) -> float:
        self.times.append(time.perf_counter())
        if len(self.times) < 2:
            return 0.0
        return (len(self.times) - 1) * self.batch_size / (self.times[-1] - self.times[0])


def train(gan: DCGAN, dataset: tf.data.Dataset, settings: LoopSettings,
          strategy: Optional[tf.distribute.Strategy] = None,
          samples: Optional[SampleGrids] = None,
          on_step: Optional[Callable[[int], None]] = None,
          quality: Optional[QualityScores] = None) -> dict:
    """Runs train_step up to `settings.steps`, resuming from the latest checkpoint if any.

    Side jobs: `samples` after every epoch, `quality` every `settings.eval_every` steps and at
    the last. `on_step(step)` is called after each completed step (e.g. to report progress
    elsewhere).

    Returns the last step's logs as floats. Raises TrainingDiverged on a non-finite loss
    without saving that step, so the last checkpoint stays good.
    """
    strategy = strategy or tf.distribute.get_strategy()
    step_counter = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
    checkpoint = _checkpoint(gan, step_counter)
    manager = tf.train.CheckpointManager(checkpoint, settings.checkpoint_dir, max_to_keep=2)
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint)
        print(f"Resuming from {manager.latest_checkpoint} at step {int(step_counter)}")
    start = int(step_counter)

    writer = (tf.summary.create_file_writer(settings.log_dir) if settings.log_dir
              else tf.summary.create_noop_writer())
    run_step = _distributed_step(gan, strategy)
    batches = iter(strategy.experimental_distribute_dataset(dataset))
    progress = keras.utils.Progbar(settings.steps, stateful_metrics=["d_loss", "g_loss", "img/s"])
    throughput = _Throughput(settings.global_batch_size)
    throughput.tick()
    logs = {}
    with writer.as_default():
        for step in range(start + 1, settings.steps + 1):
            logs = {name: float(value) for name, value in run_step(next(batches)).items()}
            _stop_if_diverged(logs, step, manager.latest_checkpoint)
            step_counter.assign(step)
            rate = throughput.tick()
            progress.update(step, values=[("d_loss", logs["d_loss"]), ("g_loss", logs["g_loss"]),
                                          ("img/s", rate)])
            tf.summary.experimental.set_step(step)
            if step % settings.log_every == 0 or step == settings.steps:
                for name in SCALARS:
                    tf.summary.scalar(name, logs[name])
                tf.summary.scalar("images_per_second", rate)
            if step % settings.checkpoint_every == 0 or step == settings.steps:
                manager.save(checkpoint_number=step)
            if samples and step % settings.steps_per_epoch == 0:
                samples.record(f"epoch_{step // settings.steps_per_epoch:03d}")
            if quality and _due(step, settings.eval_every, settings.steps):
                quality.record(step)
            if on_step:
                on_step(step)
        if samples and (not samples.frames or settings.steps % settings.steps_per_epoch):
            samples.record("final")
    writer.flush()
    return logs


def _due(step: int, every: int, last_step: int) -> bool:
    """Every `every` steps and at the last one; never when `every` is 0 (off)."""
    return every > 0 and (step % every == 0 or step == last_step)


def _stop_if_diverged(logs: dict, step: int, last_checkpoint: Optional[str]) -> None:
    bad = {name: value for name, value in logs.items() if not math.isfinite(value)}
    if bad:
        raise TrainingDiverged(
            f"{', '.join(f'{k}={v}' for k, v in bad.items())} at step {step}; training stopped. "
            f"Last good checkpoint: {last_checkpoint or 'none yet'}")
