"""The loop around DCGAN.train_step: restore, then one compiled step after another with the side
jobs (trainer_module/side_jobs.py, trainer_module/checkpoints.py) called after each.

The step runs as one tf.function called from Python, not through Keras `fit`, which ran the same
step slower here (docs/trainer.md, bench/loop_overhead.py). Everything a resumed run needs is in
the checkpoint: both networks, both optimizers, the step counter and the random generator's state.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import tensorflow as tf

from common import graph_function
from trainer_module.checkpoints import Checkpoints, CheckpointsBeyondSteps
from trainer_module.dcgan import DCGAN
from trainer_module.side_jobs import (
    LoopSettings,
    ProgressBar,
    QualityScores,
    SampleGrids,
    SideJob,
    StepHook,
    TensorBoardScalars,
    due,
)


class TrainingDiverged(FloatingPointError):
    """A loss became NaN or Inf; the message names the step and the last good checkpoint."""


def standard_jobs(
    gan: DCGAN,
    settings: LoopSettings,
    samples: SampleGrids | None = None,
    quality: QualityScores | None = None,
    on_step: Callable[[int], None] | None = None,
    strategy: tf.distribute.Strategy | None = None,
) -> list:
    """The side jobs of a training run (in any order: none depends on another); `strategy`
    decides which process writes the checkpoints (Checkpoints)."""
    jobs = [
        ProgressBar(),
        TensorBoardScalars(),
        Checkpoints(gan, settings.checkpoint_dir, strategy),
        samples,
        quality,
        StepHook(on_step) if on_step else None,
    ]
    return [job for job in jobs if job is not None]


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


def train(
    gan: DCGAN,
    dataset: tf.data.Dataset,
    settings: LoopSettings,
    strategy: tf.distribute.Strategy | None = None,
    jobs: Sequence[SideJob] | None = None,
) -> dict:
    """Runs train_step up to `settings.steps`, resuming from the latest checkpoint if any, with
    `jobs` (default: standard_jobs(gan, settings)) after every step.

    A rerun with more steps than its checkpoints trains on from them; with fewer it raises
    CheckpointsBeyondSteps rather than pass off the further-trained model as the shorter run's.
    Returns the last step's logs as floats. A non-finite loss raises TrainingDiverged before any
    job sees its step, within `log_every_steps` steps (and the losses are read back at every
    checkpoint step, so a diverged state is never saved); a job's exception stops training too.
    """
    strategy = strategy or tf.distribute.get_strategy()
    jobs = standard_jobs(gan, settings, strategy=strategy) if jobs is None else list(jobs)
    checkpoints = next((job for job in jobs if isinstance(job, Checkpoints)), None)
    start = checkpoints.restore() if checkpoints else 0
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
    with writer.as_default():  # where every job's summaries go, at the step set here
        # A run resumed at its last step runs only the jobs' `end`: their summaries (the final
        # sample grid) go at that step.
        tf.summary.experimental.set_step(start)
        for job in jobs:
            job.begin(start, settings)
        for step in range(start + 1, settings.steps + 1):
            losses = run_step(next(batches))  # tensors: the host need not wait for them
            logs = None
            if _reads_back(step, settings, jobs):
                logs = {name: float(value) for name, value in losses.items()}
                _stop_if_diverged(logs, step, checkpoints.latest if checkpoints else None)
            tf.summary.experimental.set_step(step)
            for job in jobs:
                job.after_step(step, logs)
        for job in jobs:
            job.end(settings.steps)
    writer.flush()
    return logs


def _reads_back(step: int, settings: LoopSettings, jobs: Sequence[SideJob]) -> bool:
    """Whether this step's losses are read back: see SideJob."""
    return (
        step == settings.steps
        or due(step, settings.log_every_steps, settings.steps)
        or any(job.needs_logs(step) for job in jobs)
    )


def _stop_if_diverged(logs: dict, step: int, last_checkpoint: str | None) -> None:
    bad = {name: value for name, value in logs.items() if not math.isfinite(value)}
    if bad:
        raise TrainingDiverged(
            f"{', '.join(f'{k}={v}' for k, v in bad.items())} at step {step}; training stopped. "
            f"Last good checkpoint: {last_checkpoint or 'none yet'}"
        )
