"""The loop around DCGAN.train_step, and its side jobs as small callbacks (SideJob): checkpoints
and resume, the progress bar, TensorBoard scalars, the divergence stop, sample grids, the quality
probe and a per-step hook. standard_jobs() lists them in the order they run after each step.

The step runs as one tf.function called from Python, not through Keras `fit`, which ran the same
step slower here (docs/trainer.md). Everything a resumed run needs is in the checkpoint: both
networks, both optimizers, the step counter and the random generator's state.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf
import tf_keras as keras

from common import PROBE_SECONDS, PROGRESS_GIF, QUALITY_PREFIX, REAL_VS_REAL_PREFIX, graph_function
from trainer_module import images
from trainer_module.batchnorm import ExportView
from trainer_module.dcgan import DCGAN

if TYPE_CHECKING:  # the probe pulls in the evaluator's metrics; only run_fn needs them
    from trainer_module.quality_probe import QualityProbe

SCALARS = ("d_loss", "g_loss", "d_real", "d_fake")
GRID_LATENT_SEED = 2024  # the fixed z of the Trainer's sample grids, the same in every run


class TrainingDiverged(FloatingPointError):
    """A loss became NaN or Inf; the message names the step and the last good checkpoint."""


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
    """One side job of the training loop, a callback around the compiled step.

    train() calls `begin` once after restoring (with the step it resumes from and the run's
    LoopSettings, from which a job reads its schedule, as Keras callbacks read their params),
    `after_step` after every completed step, in the order of the job list, and `end` after the
    last step. Each does nothing unless a job overrides it.

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
    training) is written at step 0: the ceiling the curves are read against.
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

    def begin(self, start_step: int, settings: LoopSettings) -> None:
        self.every, self.last_step = settings.eval_every_steps, settings.steps

    def after_step(self, step: int, logs: dict | None) -> None:
        if _due(step, self.every, self.last_step):
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


class CheckpointsUnreadable(RuntimeError):
    """Checkpoints exist but none can be read: starting again from step 0 is the user's call."""


class CheckpointsBeyondSteps(ValueError):
    """The newest checkpoint is past the steps asked for: training on is a rerun with more steps,
    but fewer cannot be had from it (its model is trained further)."""


class CheckpointNotWritten(OSError):
    """A checkpoint could not be written (a full disk, most often); the one before it stands."""


class Checkpoints(SideJob):
    """Full-state checkpoints every `checkpoint_every_steps` steps and at the last, the newest two
    kept.

    `restore()` (train() calls it before anything else) loads the newest readable one, if any,
    and returns its step. A torn or corrupt newest checkpoint (a node reclaimed mid-write, a bad
    disk) is passed over, with one line saying so, for the one before it; when checkpoints exist
    and none can be read it raises CheckpointsUnreadable rather than silently start from step 0.
    `latest` is the newest good checkpoint's path (restored or saved in this run), None before
    the first: after a fallback it names the one resumed from, not the torn one.

    TensorFlow writes a checkpoint into `<prefix>-<step>_temp` and renames it when whole, so a
    write cut short never replaces a good checkpoint; what it leaves is removed (at restore
    after a kill, at once after a failed write, where it would hold on to the disk space that
    ran out). Only one run writes a checkpoint folder: the run lock sees to that locally.

    Under MultiWorkerMirroredStrategy (`strategy`) every worker saves at the same steps, since
    reading the distributed variables is a collective op they all must join, but only the chief
    writes `directory`; the others write into a folder of their own (`worker_path`) and delete
    it after each save. Every worker restores from the chief's checkpoints, which on a cluster
    live on storage all of them read. `written` lists the checkpoints this process wrote.
    """

    def __init__(self, gan: DCGAN, directory: str, strategy: tf.distribute.Strategy | None = None):
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.checkpoint = _checkpoint(gan, self.step)
        self.manager = tf.train.CheckpointManager(self.checkpoint, directory, max_to_keep=2)
        write_directory = worker_path(directory, strategy or tf.distribute.get_strategy())
        self.writer = (
            self.manager
            if write_directory == directory
            else tf.train.CheckpointManager(self.checkpoint, write_directory, max_to_keep=1)
        )
        self.every = self.last_step = 0
        self.latest: str | None = None
        self.written: list = []

    @property
    def chief(self) -> bool:
        """Whether this process writes the checkpoint folder (see the class)."""
        return self.writer is self.manager

    def restore(self) -> int:
        if self.chief:
            self._remove_partial_writes()
        else:  # what a killed worker left in its own folder
            _remove_worker_folder(self.writer.directory)
        unreadable = []
        for path in reversed(self.manager.checkpoints):  # the newest first
            try:
                self.checkpoint.restore(path).assert_existing_objects_matched()
            # A truncated data file raises IndexError ("Read less bytes than requested"), a
            # damaged index an OpError, a checkpoint missing objects an AssertionError.
            except (tf.errors.OpError, IndexError, ValueError, AssertionError) as error:
                reason = f"{type(error).__name__}: {str(error).strip().splitlines()[0][:200]}"
                print(f"Checkpoint {path} cannot be read ({reason}); trying the one before it")
                unreadable.append(path)
                continue
            print(f"Resuming from {path} at step {int(self.step)}")
            self.latest = path
            return int(self.step)
        if unreadable:
            raise CheckpointsUnreadable(
                f"no checkpoint in {self.manager.directory} can be read ({', '.join(unreadable)}); "
                "delete the folder to train again from step 0"
            )
        return 0

    def begin(self, start_step: int, settings: LoopSettings) -> None:
        self.every, self.last_step = settings.checkpoint_every_steps, settings.steps

    def needs_logs(self, step: int) -> bool:
        return self._due(step)  # so that the divergence stop checks the step before it is saved

    def after_step(self, step: int, logs: dict | None) -> None:
        self.step.assign(step)
        if self._due(step):
            self.latest = self._save(step)

    def _due(self, step: int) -> bool:
        return _due(step, self.every, self.last_step)

    def _save(self, step: int) -> str:
        """Returns the chief's checkpoint of this step (the one a rerun resumes from)."""
        try:
            path = self.writer.save(checkpoint_number=step)
            self.written.append(path)
            if not self.chief:
                _remove_worker_folder(self.writer.directory)
                path = os.path.join(self.manager.directory, os.path.basename(path))
            return path
        except (tf.errors.OpError, OSError) as error:
            if self.chief:
                self._remove_partial_writes()
            else:
                _remove_worker_folder(self.writer.directory)
            reason = str(error).strip().splitlines()[0]
            raise CheckpointNotWritten(
                f"the checkpoint at step {step} could not be written in {self.manager.directory} "
                f"({type(error).__name__}: {reason}); the last good one is "
                f"{self.latest or 'none yet'}, and a rerun resumes from it"
            ) from error

    def _remove_partial_writes(self) -> None:
        for partial in tf.io.gfile.glob(os.path.join(self.manager.directory, "*_temp")):
            tf.io.gfile.rmtree(partial)


class DivergenceStop(SideJob):
    """Raises TrainingDiverged on a NaN or Inf loss, naming the step and `checkpoints.latest`.

    It looks at every step whose losses are read back, so it stops within `log_every_steps` steps
    of a divergence. It runs before the checkpoint job, and the losses are read back at every
    checkpoint step, so a diverged state is never saved.
    """

    def __init__(self, checkpoints: Checkpoints):
        self.checkpoints = checkpoints

    def after_step(self, step: int, logs: dict | None) -> None:
        if logs is not None:
            _stop_if_diverged(logs, step, self.checkpoints.latest)


class ProgressBar(SideJob):
    """The Keras progress bar: losses and images/s (kept in `images_per_second` for others),
    moved on at the steps whose losses are read back."""

    def __init__(self):
        self.bar = self.throughput = None
        self.images_per_second = 0.0

    def begin(self, start_step: int, settings: LoopSettings) -> None:
        self.bar = keras.utils.Progbar(
            settings.steps, stateful_metrics=["d_loss", "g_loss", "img/s"]
        )
        self.throughput = _Throughput(settings.global_batch_size)
        self.throughput.tick(start_step)

    def after_step(self, step: int, logs: dict | None) -> None:
        if logs is None:
            return
        self.images_per_second = self.throughput.tick(step)
        self.bar.update(
            step,
            values=[
                ("d_loss", logs["d_loss"]),
                ("g_loss", logs["g_loss"]),
                ("img/s", self.images_per_second),
            ],
        )


class TensorBoardScalars(SideJob):
    """Sets the step of this step's summaries (the sample grids' too, which come after it), and
    writes the SCALARS and images/s every `log_every_steps` steps and at the last."""

    def __init__(self, progress: ProgressBar):
        self.progress = progress
        self.every = self.last_step = 0

    def begin(self, start_step: int, settings: LoopSettings) -> None:
        self.every, self.last_step = settings.log_every_steps, settings.steps

    def after_step(self, step: int, logs: dict | None) -> None:
        tf.summary.experimental.set_step(step)
        if logs is not None and _due(step, self.every, self.last_step):
            for name in SCALARS:
                tf.summary.scalar(name, logs[name])
            tf.summary.scalar("images_per_second", self.progress.images_per_second)


class StepHook(SideJob):
    """Calls `on_step(step)` after each completed step (the benchmarks report progress so)."""

    def __init__(self, on_step: Callable[[int], None]):
        self.on_step = on_step

    def after_step(self, step: int, logs: dict | None) -> None:
        self.on_step(step)


def standard_jobs(
    gan: DCGAN,
    settings: LoopSettings,
    samples: SampleGrids | None = None,
    quality: QualityScores | None = None,
    on_step: Callable[[int], None] | None = None,
    strategy: tf.distribute.Strategy | None = None,
) -> list:
    """The side jobs of a training run, in the order they run after each step; `strategy`
    decides which process writes the checkpoints (Checkpoints)."""
    checkpoints = Checkpoints(gan, settings.checkpoint_dir, strategy)
    progress = ProgressBar()
    jobs = [
        DivergenceStop(checkpoints),  # first: a non-finite step is not shown, logged or saved
        progress,
        TensorBoardScalars(progress),  # before the grids: it sets their summaries' step
        checkpoints,
        samples,
        quality,
        StepHook(on_step) if on_step else None,
    ]
    return [job for job in jobs if job is not None]


def worker_path(path: str, strategy: tf.distribute.Strategy) -> str:
    """Where this process writes what belongs at `path`: `path` itself, except on a
    MultiWorkerMirroredStrategy worker other than the chief, which gets a folder of its own
    beside it, `<parent>/workertemp_<task>/<name>`, to delete once written.

    TensorFlow's multi-worker guide (its `write_filepath`): every worker must run every save,
    because reading mirrored and sync-on-read variables is a collective op all of them join,
    but two workers writing the same files would clobber each other, so only the chief's land
    where they are read.
    """
    if strategy.extended.should_checkpoint:  # the chief, or no cluster at all
        return path
    resolver = strategy.cluster_resolver
    return os.path.join(
        os.path.dirname(path.rstrip("/")),
        f"workertemp_{resolver.task_type}_{resolver.task_id}",
        os.path.basename(path.rstrip("/")),
    )


def remove_worker_path(path: str, strategy: tf.distribute.Strategy) -> None:
    """Deletes what a worker other than the chief wrote at `worker_path(path, strategy)`."""
    if worker_path(path, strategy) != path:
        _remove_worker_folder(worker_path(path, strategy))


def _remove_worker_folder(write_path: str) -> None:
    """The `workertemp_<task>` folder around a worker's write path, if it exists."""
    folder = os.path.dirname(write_path)
    if tf.io.gfile.exists(folder):
        tf.io.gfile.rmtree(folder)


def _checkpoint(gan: DCGAN, step: tf.Variable) -> tf.train.Checkpoint:
    average = {"generator_average": gan.generator_average} if gan.generator_average else {}
    return tf.train.Checkpoint(
        generator=gan.generator,
        discriminator=gan.discriminator,
        g_optimizer=gan.g_optimizer,
        d_optimizer=gan.d_optimizer,
        rng=gan.rng,
        step=step,
        **average,
    )


def distribute_dataset(
    dataset: tf.data.Dataset, strategy: tf.distribute.Strategy
) -> tf.distribute.DistributedDataset:
    """`dataset`'s global batches split over the strategy's replicas, sharded by data.

    Every worker reads the same global batches in the same order (the shuffle is seeded) and
    keeps its replicas' slices of each (AutoShardPolicy.DATA), so that the workers together
    train on exactly the batches one worker would at the same global batch. TensorFlow's
    default tries to shard by file first, which needs at least as many files as workers
    (Transform may write one) and would change which images make up a step. The cost: each
    worker reads and decodes every global batch, of which it trains on its share.
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(dataset.with_options(options))


def _distributed_step(gan: DCGAN, strategy: tf.distribute.Strategy) -> Callable:
    """One train_step on every replica, losses summed (each is already a global-batch mean)."""

    @graph_function
    def step(batch):
        per_replica = strategy.run(gan.train_step, args=(batch,))
        return {
            name: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
            for name, value in per_replica.items()
        }

    return step


class _Throughput:
    """Images/s over the last few read-backs (the first step's tracing would skew a running
    mean); between read-backs the host does not wait for the device, so only they time it."""

    def __init__(self, batch_size: int, window: int = 10):
        self.batch_size = batch_size
        self.ticks = collections.deque(maxlen=window + 1)  # (seconds, step)

    def tick(self, step: int) -> float:
        self.ticks.append((time.perf_counter(), step))
        if len(self.ticks) < 2:
            return 0.0
        (first, first_step), (last, last_step) = self.ticks[0], self.ticks[-1]
        return (last_step - first_step) * self.batch_size / (last - first)


def train(
    gan: DCGAN,
    dataset: tf.data.Dataset,
    settings: LoopSettings,
    strategy: tf.distribute.Strategy | None = None,
    jobs: Sequence[SideJob] | None = None,
) -> dict:
    """Runs train_step up to `settings.steps`, resuming from the latest checkpoint if any, with
    `jobs` (default: standard_jobs(gan, settings)) after every step, in their order.

    A rerun with more steps than its checkpoints trains on from them; with fewer it raises
    CheckpointsBeyondSteps rather than pass off the further-trained model as the shorter run's.
    Returns the last step's logs as floats. A job's exception stops training: DivergenceStop's
    TrainingDiverged on a non-finite loss, within `log_every_steps` steps and before any checkpoint.
    """
    strategy = strategy or tf.distribute.get_strategy()
    jobs = standard_jobs(gan, settings, strategy=strategy) if jobs is None else list(jobs)
    start = _restore(jobs)
    if start > settings.steps:
        raise CheckpointsBeyondSteps(
            f"the checkpoints in {settings.checkpoint_dir} are at step {start}, beyond the "
            f"{settings.steps} steps asked for: ask for {start} or more, or delete the folder to "
            f"train {settings.steps} steps afresh"
        )
    run_step = _distributed_step(gan, strategy)
    batches = iter(distribute_dataset(dataset, strategy))
    writer = (
        tf.summary.create_file_writer(settings.log_dir)
        if settings.log_dir
        else tf.summary.create_noop_writer()
    )
    logs = {}
    with writer.as_default():  # where every job's summaries go
        # A run resumed at its last step runs only the jobs' `end`: their summaries (the final
        # sample grid) go at that step. After each step TensorBoardScalars sets it.
        tf.summary.experimental.set_step(start)
        for job in jobs:
            job.begin(start, settings)
        for step in range(start + 1, settings.steps + 1):
            losses = run_step(next(batches))  # tensors: the host need not wait for them
            logs = (
                {name: float(value) for name, value in losses.items()}
                if _reads_back(step, settings, jobs)
                else None
            )
            for job in jobs:
                job.after_step(step, logs)
        for job in jobs:
            job.end(settings.steps)
    writer.flush()
    return logs


def _restore(jobs: Sequence[SideJob]) -> int:
    """The step to continue from: what the Checkpoints job restored, or 0 without one."""
    checkpoints = [job for job in jobs if isinstance(job, Checkpoints)]
    return checkpoints[0].restore() if checkpoints else 0


def _reads_back(step: int, settings: LoopSettings, jobs: Sequence[SideJob]) -> bool:
    """Whether this step's losses are read back: see SideJob."""
    return (
        step == settings.steps
        or _due(step, settings.log_every_steps, settings.steps)
        or any(job.needs_logs(step) for job in jobs)
    )


def _due(step: int, every: int, last_step: int) -> bool:
    """Every `every` steps and at the last one; never when `every` is 0 (off)."""
    return every > 0 and (step % every == 0 or step == last_step)


def _stop_if_diverged(logs: dict, step: int, last_checkpoint: str | None) -> None:
    bad = {name: value for name, value in logs.items() if not math.isfinite(value)}
    if bad:
        raise TrainingDiverged(
            f"{', '.join(f'{k}={v}' for k, v in bad.items())} at step {step}; training stopped. "
            f"Last good checkpoint: {last_checkpoint or 'none yet'}"
        )
