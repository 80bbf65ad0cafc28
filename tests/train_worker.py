"""A training process for the resume tests: the real DCGAN and loop on a fixed tiny batch.

    python tests/train_worker.py CHECKPOINT_DIR STEPS WEIGHTS_OUT
Prints "step N" after every step (flushed) and saves the final weights of both networks.
"""
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import legacy_keras  # noqa: E402, F401  (Keras 2 before TensorFlow loads)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from pipeline_config import PipelineConfig  # noqa: E402
from trainer_module.run import build_dcgan  # noqa: E402
from trainer_module.training_loop import LoopSettings, standard_jobs, train  # noqa: E402

BATCH = 4
CHECKPOINT_EVERY = 3


def main(checkpoint_dir: str, steps: int, weights_out: str) -> None:
    gan = build_dcgan(PipelineConfig().trainer_settings())
    batch = np.random.default_rng(0).uniform(-1, 1, (BATCH, 64, 64, 3)).astype(np.float32)
    dataset = tf.data.Dataset.from_tensors(batch).repeat()
    settings = LoopSettings(steps=steps, global_batch_size=BATCH, steps_per_epoch=1000,
                            checkpoint_dir=checkpoint_dir, checkpoint_every=CHECKPOINT_EVERY,
                            log_dir=None, log_every=1000, eval_every=0)
    train(gan, dataset, settings, jobs=standard_jobs(
        gan, settings, on_step=lambda step: print(f"step {step}", flush=True)))
    weights = gan.generator.get_weights() + gan.discriminator.get_weights()
    np.savez(weights_out, *weights)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
