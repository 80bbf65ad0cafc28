"""Images/s of the Trainer's own DCGAN step (trainer_module), on a fixed in-memory batch.

    .venv/bin/python bench/train_step.py [--steps N] [--batch B]

Prints one line: train_step img_per_s=<float>. Compare with ../shared/bench/seed_keras.py and
torch_dcgan.py run back to back on the same machine.
"""
import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tensorflow as tf  # noqa: E402

from pipeline_config import PipelineConfig  # noqa: E402
from trainer_module.run import build_dcgan  # noqa: E402


def train_step_images_per_second(steps: int, batch_size: int) -> float:
    gan = build_dcgan(PipelineConfig().trainer_custom_config())
    step = tf.function(gan.train_step)
    batch = tf.random.uniform([batch_size, 64, 64, 3], -1, 1, seed=0)
    for _ in range(3):  # trace and warm up
        float(step(batch)["d_loss"])
    started = time.perf_counter()
    for _ in range(steps):
        logs = step(batch)
    float(logs["d_loss"])
    return steps * batch_size / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    print(f"train_step img_per_s={train_step_images_per_second(args.steps, args.batch):.2f}")


if __name__ == "__main__":
    main()
