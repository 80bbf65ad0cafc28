"""Full-state checkpoints of a training run (both networks, both optimizers, the weight average,
the step and the random generator's state), as a side job of the loop; resuming from the newest
readable one; where each process of a multi-worker run writes.
"""

from __future__ import annotations

import os

import tensorflow as tf

from trainer_module.dcgan import DCGAN
from trainer_module.side_jobs import LoopSettings, SideJob, due


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
        return self._due(step)  # so that the loop checks the step for divergence before it is saved

    def after_step(self, step: int, logs: dict | None) -> None:
        self.step.assign(step)
        if self._due(step):
            self.latest = self._save(step)

    def _due(self, step: int) -> bool:
        return due(step, self.every, self.last_step)

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
