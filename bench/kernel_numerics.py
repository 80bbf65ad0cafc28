"""Do the kernels change the training? The losses of the same fixed-seed steps under each CPU
kernel setting of bench/step_profile.py, each in its own process, deterministic ops on.

    .venv/bin/python bench/kernel_numerics.py [--steps 12] [--batch 32]

Prints each setting's losses at a few steps and their largest relative difference from the
first setting's, step by step. A GAN's training amplifies any rounding difference step after
step, so the yardstick is the difference between two kernel settings the project already
trained with (this CPU's oneDNN kernels against oneDNN's AVX2 ones), not zero.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from step_profile import SETTINGS  # noqa: E402
from train_speed import cpu_description  # noqa: E402

TRAIN_STEP = Path(__file__).resolve().parent / "train_step.py"


def losses(steps: int, batch: int, extra_env: dict) -> list:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_DETERMINISTIC_OPS="1", **extra_env)
    out = subprocess.run(
        [sys.executable, str(TRAIN_STEP), "--steps", str(steps), "--batch", str(batch), "--losses"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-2])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    print(cpu_description(), flush=True)
    runs = {name: losses(args.steps, args.batch, env) for name, env in SETTINGS.items()}
    reference = runs["default"]
    shown = sorted({0, 1, 2, 4, 8, len(reference) - 1} & set(range(len(reference))))
    print(f"{'step':>5s}" + "".join(f"{name + ' d/g':>34s}" for name in runs))
    for index in shown:
        print(
            f"{index + 1:5d}"
            + "".join(f"{run[index][0]:17.6f}{run[index][1]:17.6f}" for run in runs.values())
        )
    print("\nlargest relative difference from 'default' in d_loss or g_loss, by step")
    for name, run in runs.items():
        if name == "default":
            continue
        differences = [
            max(abs(a - b) / abs(b) for a, b in zip(mine, theirs))
            for mine, theirs in zip(run, reference)
        ]
        print(f"  {name:18s}" + " ".join(f"{value:.1e}" for value in differences))


if __name__ == "__main__":
    main()
