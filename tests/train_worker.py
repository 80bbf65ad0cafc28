"""A training process for the resume tests: the real DCGAN and loop on a fixed tiny batch.

    python tests/train_worker.py CHECKPOINT_DIR STEPS WEIGHTS_OUT [KILL_DURING_SAVE]
Prints "step N" after every step (flushed) and saves the final weights of both networks.
KILL_DURING_SAVE kills the process with SIGKILL inside its second checkpoint write, at one of
the write's stages:
  data:F   while the data file is being written, once it holds F (0-1) of a whole one's bytes
  state    after the checkpoint's files are complete, before the `checkpoint` index names it
"""

import glob
import os
import signal
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import tf_environment  # noqa: E402, F401  (set before TensorFlow loads)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.python.checkpoint import checkpoint_management  # noqa: E402

from pipeline_config import PipelineConfig  # noqa: E402
from trainer_module.run import build_dcgan  # noqa: E402
from trainer_module.settings import TrainerSettings  # noqa: E402
from trainer_module.side_jobs import LoopSettings  # noqa: E402
from trainer_module.training_loop import standard_jobs, train  # noqa: E402

BATCH = 4
CHECKPOINT_EVERY = 3


def die(why: str) -> None:
    print(f"killed {why}", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


def kill_during_second_save(checkpoint_dir: str, stage: str) -> None:
    """Wraps CheckpointManager.save so that its second call is cut short at `stage`."""
    save, saves = tf.train.CheckpointManager.save, []

    def data_file_watch(fraction: float, whole_bytes: int) -> None:
        pattern = os.path.join(checkpoint_dir, "*_temp", "*.data-*")
        while True:
            for path in glob.glob(pattern):
                size = os.path.getsize(path) if os.path.exists(path) else 0
                if size >= fraction * whole_bytes:
                    die(f"with the data file at {size} of {whole_bytes} bytes")
            time.sleep(0.0005)

    def record_state_then_die(*args, **kwargs):
        die("after the checkpoint's files were written, before the index named it")

    def wrapped(manager, *args, **kwargs):
        saves.append(1)
        if len(saves) == 2 and stage.startswith("data:"):
            (whole,) = glob.glob(os.path.join(checkpoint_dir, "ckpt-*.data-*"))
            threading.Thread(
                target=data_file_watch, daemon=True, args=(float(stage[5:]), os.path.getsize(whole))
            ).start()
        if len(saves) == 2 and stage == "state":
            checkpoint_management.update_checkpoint_state_internal = record_state_then_die
        return save(manager, *args, **kwargs)

    tf.train.CheckpointManager.save = wrapped


def main(checkpoint_dir: str, steps: int, weights_out: str, kill_stage: str = "") -> None:
    if kill_stage:
        kill_during_second_save(checkpoint_dir, kill_stage)
    # The default width, not tests/tiny_pipeline.NARROW: the kill inside a checkpoint write
    # must catch the data file half-written, which takes a file of some size (the narrow
    # networks' is written in a few milliseconds).
    gan = build_dcgan(TrainerSettings.of(PipelineConfig()))
    batch = np.random.default_rng(0).uniform(-1, 1, (BATCH, 64, 64, 3)).astype(np.float32)
    dataset = tf.data.Dataset.from_tensors(batch).repeat()
    settings = LoopSettings(
        steps=steps,
        global_batch_size=BATCH,
        steps_per_epoch=1000,
        checkpoint_dir=checkpoint_dir,
        checkpoint_every_steps=CHECKPOINT_EVERY,
        log_dir=None,
        log_every_steps=1000,
        eval_every_steps=0,
    )
    train(
        gan,
        dataset,
        settings,
        jobs=standard_jobs(gan, settings, on_step=lambda step: print(f"step {step}", flush=True)),
    )
    weights = gan.generator.get_weights() + gan.discriminator.get_weights()
    np.savez(weights_out, *weights)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], *sys.argv[4:])
