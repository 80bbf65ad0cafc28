"""Images/s of the Trainer's step on the machine's accelerator, over the settings that matter on
a GPU: global batch 128, 256 and 512; float32 and mixed_float16; XLA on and off.

    .venv/bin/python bench/gpu_step.py [--batches 128 256 512] [--steps 20]

Prints the device first (`gpu_step device=<name>`; without a GPU it says so, and the figures
that follow are the CPU's, not a GPU's), then one line per setting:
`gpu_step batch=<b> policy=<float32|mixed_float16> xla=<on|off> img_per_s=<f>`. Each setting
runs bench/train_step.py in a process of its own (a Keras precision policy is process-wide), on
one fixed in-memory batch: the step alone, without the input pipeline.
"""

import argparse
import itertools
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
POLICIES = ("float32", "mixed_float16")


def device() -> str:
    """The GPU's name as TensorFlow sees it, or a line saying there is none."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import tensorflow as tf; gpus = tf.config.list_physical_devices('GPU'); "
            "print(tf.config.experimental.get_device_details(gpus[0])"
            ".get('device_name', gpus[0].name) if gpus else '')",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    name = done.stdout.strip()
    return name or "none (no GPU visible to TensorFlow: CPU figures, a GPU's are unmeasured)"


def images_per_second(batch: int, policy: str, xla: bool, steps: int) -> str:
    command = [
        sys.executable,
        str(HERE / "train_step.py"),
        "--batch",
        str(batch),
        "--policy",
        policy,
        "--steps",
        str(steps),
    ] + (["--jit"] if xla else [])
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:  # e.g. out of device memory at a large batch: say so, go on
        return "failed: " + (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
    return done.stdout.strip().splitlines()[-1].split("img_per_s=")[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, nargs="+", default=[128, 256, 512])
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    print(f"gpu_step device={device()}", flush=True)
    for batch, policy, xla in itertools.product(args.batches, POLICIES, (False, True)):
        rate = images_per_second(batch, policy, xla, args.steps)
        print(
            f"gpu_step batch={batch} policy={policy} xla={'on' if xla else 'off'} img_per_s={rate}",
            flush=True,
        )


if __name__ == "__main__":
    main()
