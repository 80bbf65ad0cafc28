"""Where the train step's time goes, op by op, under several CPU settings side by side.

    .venv/bin/python bench/step_profile.py [--batch 32] [--steps 4] [--top 14]
                                           [--settings default,avx2,avx2_onednn_off,bf16]
                                           [--torch]
                                           [--generator-filters N]

Each setting runs in its own process (TensorFlow reads oneDNN's settings once, when it loads):
TensorFlow's profiler records a few steps of the Trainer's step on a fixed batch, and the
recorded op times are summed by op type, per step (both cores' threads added, so a row can
exceed the step's wall time). The settings are the code paths of the two machine types:
`default` (this CPU as it is), `avx2` (oneDNN limited to AVX2: an AVX2-only CPU now) and
`avx2_onednn_off` (an AVX2-only CPU before the project turned oneDNN on: TensorFlow's default
there, Eigen's convolutions); `bf16` is this CPU under the mixed_bfloat16 policy. --torch adds
the PyTorch twin (bench/reference/torch_dcgan.py, run under torch.profiler) as is, limited to
AVX2 and under bfloat16 autocast, by op, in a table of its own.
--generator-filters sets G's width (default: the Trainer's; the twin builds the seed's, 1024).

Under each table: the step's GFLOP/s (bench/train_speed.py's count of its multiply-adds over
the wall time) and the convolutions' share of the op time, and so the GFLOP/s the convolutions
ran at while they ran (the step's work, nearly all of it theirs, over their share of the time):
what to hold against the float32 matmul peak that train_speed.py prints.
"""

import argparse
import collections
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_speed import (  # noqa: E402
    AVX2_CAP,
    AVX2_ONEDNN_OFF,
    SEED_BENCH,
    TORCH_AVX2_CAP,
    cpu_description,
    step_gflops_per_image,
)

# name -> (environment, extra arguments of the child): the CPU's code paths, and bfloat16.
SETTINGS = {
    "default": ({}, []),
    "avx2": (AVX2_CAP, []),
    "avx2_onednn_off": (AVX2_ONEDNN_OFF, []),
    "bf16": ({}, ["--policy", "mixed_bfloat16"]),
}
TORCH_SETTINGS = {
    "torch": ({}, []),
    "torch_avx2": (TORCH_AVX2_CAP, []),
    "torch_bf16": ({}, ["--autocast"]),
}
OP_EVENT = re.compile(r"^[^:]+:(\w+)$")  # "generator/conv2d_transpose/.../Conv2D:_MklNativeConv2D"

# python -c TORCH_CHILD SCRIPT STEPS BATCH: the twin's main() under torch.profiler
TORCH_CHILD = """
import runpy, sys, json, time, torch
from torch.profiler import profile, ProfilerActivity
script, steps, batch, *extra = sys.argv[1:]
sys.argv = [script, "--steps", steps, "--batch", batch, *extra]
started = time.perf_counter()
with profile(activities=[ProfilerActivity.CPU]) as recorded:
    runpy.run_path(script, run_name="__main__")
steps = int(steps) + 3  # torch_dcgan.py warms up with 3 steps, all recorded
print(json.dumps({"ms_per_step": (time.perf_counter() - started) * 1e3 / steps,
                  "ops": {e.key: e.self_cpu_time_total / 1e3 / steps
                          for e in recorded.key_averages()}}))
"""


def profile_tensorflow(batch: int, steps: int, generator_filters: int | None, policy: str) -> dict:
    """In this process: {op type: ms per step} and the step's wall ms, from TensorFlow's
    profiler over `steps` steps after three unrecorded ones."""
    import bootstrap

    bootstrap.start()
    from tf_environment import onednn_line

    import tensorflow as tf
    from tensorflow.tsl.profiler.protobuf import xplane_pb2
    from train_step import config_with_generator_filters

    from common import graph_function
    from trainer_module.precision import set_precision
    from trainer_module.run import build_dcgan
    from trainer_module.settings import TrainerSettings

    set_precision(policy)
    config = config_with_generator_filters(generator_filters)
    gan = build_dcgan(TrainerSettings.of(config))
    step = graph_function(gan.train_step)
    images = tf.random.uniform([batch, 64, 64, 3], -1, 1, seed=0)
    for _ in range(3):
        float(step(images)["d_loss"])
    log_dir = tempfile.mkdtemp(prefix="step_profile_")
    tf.profiler.experimental.start(log_dir)
    started = time.perf_counter()
    for _ in range(steps):
        logs = step(images)
    float(logs["d_loss"])
    wall = time.perf_counter() - started
    tf.profiler.experimental.stop()
    space = xplane_pb2.XSpace()
    space.ParseFromString(
        Path(glob.glob(f"{log_dir}/plugins/profile/*/*.xplane.pb")[0]).read_bytes()
    )
    by_type = collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            for event in line.events:
                match = OP_EVENT.match(plane.event_metadata[event.metadata_id].name)
                if match and not match.group(1).endswith("PartitionedCall"):
                    by_type[match.group(1)] += event.duration_ps / 1e9 / steps
    return {
        "ms_per_step": wall * 1e3 / steps,
        "ops": dict(by_type),
        "onednn": onednn_line(),
        "gflop_per_step": batch * step_gflops_per_image(config.generator_filters),
    }


def run_child(command: list, extra_env: dict) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **extra_env)
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def print_table(results: dict, top: int) -> None:
    names = list(results)
    ops = sorted(
        set().union(*(r["ops"] for r in results.values())),
        key=lambda op: -max(r["ops"].get(op, 0.0) for r in results.values()),
    )[:top]
    print(f"{'ms per step':42s}" + "".join(f"{name:>18s}" for name in names))
    print(f"{'  step (wall)':42s}" + "".join(f"{r['ms_per_step']:18.0f}" for r in results.values()))
    print(
        f"{'  all ops (both threads)':42s}"
        + "".join(f"{sum(r['ops'].values()):18.0f}" for r in results.values())
    )
    for op in ops:
        print(
            f"  {op[:40]:40s}" + "".join(f"{r['ops'].get(op, 0.0):18.1f}" for r in results.values())
        )
    if all("gflop_per_step" in r for r in results.values()):
        print_convolution_rate(results)


def convolution_share(ops: dict) -> float:
    """The convolutions' (forward, and gradients by input and by kernel) share of the op time."""
    return sum(ms for op, ms in ops.items() if "Conv2D" in op) / sum(ops.values())


def print_convolution_rate(results: dict) -> None:
    rows = {
        "  step GFLOP/s (its multiply-adds / wall)": [
            r["gflop_per_step"] / r["ms_per_step"] * 1e3 for r in results.values()
        ],
        "  convolutions' share of the op time": [
            convolution_share(r["ops"]) for r in results.values()
        ],
    }
    rows["  convolutions' GFLOP/s while they ran"] = [
        rate / share for rate, share in zip(*rows.values())
    ]
    for label, values in rows.items():
        print(f"{label:42s}" + "".join(f"{value:18.2f}" for value in values))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--top", type=int, default=14)
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--torch", action="store_true")
    parser.add_argument("--torch-python", default=str(ROOT / ".venv-torch" / "bin" / "python"))
    parser.add_argument("--generator-filters", type=int, help="default: the Trainer's")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--policy", default="float32", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(
            json.dumps(
                profile_tensorflow(args.batch, args.steps, args.generator_filters, args.policy)
            )
        )
        return
    print(cpu_description(), f"batch {args.batch}, {args.steps} recorded steps", flush=True)
    results = {}
    for name in args.settings.split(","):
        width = (
            []
            if args.generator_filters is None
            else ["--generator-filters", str(args.generator_filters)]
        )
        env, extra = SETTINGS[name]
        results[name] = run_child(
            [
                sys.executable,
                __file__,
                "--child",
                "--batch",
                str(args.batch),
                "--steps",
                str(args.steps),
            ]
            + width
            + extra,
            env,
        )
        print(f"{name}: {results[name]['onednn']}", flush=True)
    print_table(results, args.top)
    if args.torch:
        command = [
            args.torch_python,
            "-c",
            TORCH_CHILD,
            str(SEED_BENCH / "torch_dcgan.py"),
            str(args.steps),
            str(args.batch),
        ]
        torch_results = {
            name: run_child(command + extra, env) for name, (env, extra) in TORCH_SETTINGS.items()
        }
        print()
        print_table(torch_results, args.top)


if __name__ == "__main__":
    main()
