"""Train-step images/s: our Trainer's step vs the seed's plain Keras (loop and fit) vs PyTorch.

    make bench-train            # creates .venv-torch (Python 3.11, torch 2.13.0 CPU) once
    .venv/bin/python bench/train_speed.py [--rounds 3] [--steps 8] [--torch-python PATH]
                                          [--variants] [--avx2] [--bf16] [--extras]

"ours" is our step with the seed's generator, the network the seed's Keras step and the PyTorch
twin build; "ours_default" with the Trainer's default generator width (narrower: docs/quality.md).
Each contender runs in its own process, alternating round by round, so drift on a shared
machine hits all of them alike; prints the CPU, the median img/s of each, ratios to ours, and
our step's fraction of the float32 matmul-peak bound measured in the same run. --variants adds
our step under each speed-up in VARIANTS to the same alternation. --avx2 adds the AVX2_ONLY
contenders: ours and the PyTorch twin with oneDNN (and PyTorch's own kernels) limited to AVX2,
as on an AVX2-only CPU, and ours as such a CPU ran it before the project turned oneDNN on
(TensorFlow's default there: Eigen's path); on an AVX-512 machine they measure the AVX2
machines' code paths on one core type, side by side. --bf16 adds ours in mixed_bfloat16 and the
twin under torch.autocast bfloat16 (BF16), at the seed's and the default width; every run prints
the like-for-like ratios (ours / the twin at the same width and precision). --extras adds our
step at the seed's width without each thing it does beyond the seed's step (EXTRAS).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import bootstrap  # noqa: E402

bootstrap.start()  # this process loads TensorFlow too (the matmul peak, the step's FLOPs)

from pipeline_config import PipelineConfig  # noqa: E402
from trainer_module.seed_recipe import SEED_GENERATOR_FILTERS  # noqa: E402
from trainer_module.settings import TrainerSettings  # noqa: E402

# The article's Keras step and its PyTorch twin, kept beside the benchmarks (bench/reference/).
SEED_BENCH = ROOT / "bench" / "reference"


# Our step with one change each: (extra arguments to bench/train_step.py, extra environment).
VARIANTS = {
    "ours_onednn_off": ([], {"TF_ENABLE_ONEDNN_OPTS": "0"}),
    "ours_inter_op_1": (["--inter-op", "1"], {}),
    "ours_intra_op_1": (["--intra-op", "1"], {}),
    "ours_xla": (["--jit"], {}),
    "ours_bf16": (["--policy", "mixed_bfloat16"], {}),
    "ours_no_fusion": (["--no-fusion"], {}),
}

# oneDNN limited to AVX2 (TensorFlow's and PyTorch's copies read the same variable); PyTorch's
# own vector kernels and MKL limited alike.
AVX2_CAP = {"ONEDNN_MAX_CPU_ISA": "AVX2"}
AVX2_ONEDNN_OFF = {**AVX2_CAP, "TF_ENABLE_ONEDNN_OPTS": "0"}  # TensorFlow's default on AVX2
TORCH_AVX2_CAP = {**AVX2_CAP, "ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
AVX2_ONLY = {
    "ours_avx2": ("ours", AVX2_CAP),
    "ours_default_avx2": ("ours_default", AVX2_CAP),
    "ours_avx2_onednn_off": ("ours", AVX2_ONEDNN_OFF),
    "torch_avx2": ("torch", TORCH_AVX2_CAP),
}


# What our step does beyond the seed's, one at a time (at the seed's width): without the weight
# average, with Keras' Adam instead of FusedAdam, and with the seed's noisy labels (the default
# draws none).
EXTRAS = {
    "ours_no_average": ["--set", "generator_ema_decay=0"],
    "ours_plain_adam": ["--plain-adam"],
    "ours_seed_labels": ["--set", "real_label_noise=0.5", "fake_label_noise=0.25"],
}

# Like for like in bfloat16: ours under the mixed_bfloat16 policy, the twin under
# torch.autocast("cpu", dtype=torch.bfloat16); both at the seed's and at the default width.
BF16 = {
    "ours_bf16": ("ours", ["--policy", "mixed_bfloat16"]),
    "ours_default_bf16": ("ours_default", ["--policy", "mixed_bfloat16"]),
    "torch_bf16": ("torch", ["--autocast"]),
    "torch_default_bf16": ("torch_default", ["--autocast"]),
}


def contenders(
    steps: int,
    torch_python: str,
    variants: bool = False,
    avx2: bool = False,
    bf16: bool = False,
    extras: bool = False,
) -> dict:
    """name -> (command, extra environment)."""
    python = sys.executable
    ours_default = [python, str(ROOT / "bench" / "train_step.py"), "--steps", str(steps)]
    ours = ours_default + ["--generator-filters", str(SEED_GENERATOR_FILTERS)]
    runs = {
        "ours": ours,
        "ours_default": ours_default,
        "seed_loop": [
            python,
            str(SEED_BENCH / "seed_keras.py"),
            "--keras",
            "tf",
            "--mode",
            "loop",
            "--steps",
            str(steps),
        ],
        "seed_fit": [
            python,
            str(SEED_BENCH / "seed_keras.py"),
            "--keras",
            "tf",
            "--mode",
            "fit",
            "--steps",
            str(steps),
        ],
    }
    if torch_python and Path(torch_python).exists():
        runs["torch"] = [torch_python, str(SEED_BENCH / "torch_dcgan.py"), "--steps", str(steps)]
        default_width = ["--generator-filters", str(PipelineConfig().generator_filters)]
        runs["torch_default"] = runs["torch"] + default_width
    if bf16:
        runs.update(
            {name: runs[base] + extra for name, (base, extra) in BF16.items() if base in runs}
        )
    if extras:
        runs.update({name: runs["ours"] + extra for name, extra in EXTRAS.items()})
    runs = {name: (command, {}) for name, command in runs.items()}
    if variants:
        runs.update({name: (ours + extra, env) for name, (extra, env) in VARIANTS.items()})
    if avx2:
        runs.update(
            {name: (runs[base][0], env) for name, (base, env) in AVX2_ONLY.items() if base in runs}
        )
    return runs


def images_per_second(command: list, extra_env: dict) -> float:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **extra_env)
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    return float(out.strip().splitlines()[-1].split("img_per_s=")[1])


def cpu_description() -> str:
    """The CPU's model name, its newest instructions and core count (timings drift with the
    machine: every table names its CPU)."""
    from tf_environment import cpu_instruction_set, cpuinfo_field

    model = cpuinfo_field("model name") or "unknown CPU"
    return f"{model}, {cpu_instruction_set()}, {os.cpu_count()} cores"


def matmul_peak_gflops(extra_env: dict) -> float:
    """The float32 matmul peak, in its own process (so that extra_env, such as an ISA cap, holds
    from TensorFlow's start)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **extra_env)
    out = subprocess.run(
        [sys.executable, __file__, "--matmul-peak"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    return float(out.strip().splitlines()[-1])


def measure_matmul_peak(size: int = 2048, repeats: int = 10) -> float:
    import tensorflow as tf

    a = tf.random.normal([size, size])
    tf.matmul(a, a).numpy()
    started = time.perf_counter()
    for _ in range(repeats):
        c = tf.matmul(a, a)
    c.numpy()
    return 2 * size**3 * repeats / (time.perf_counter() - started) / 1e9


def layer_flops(model) -> list:
    """Forward FLOPs of each Dense and convolution layer of `model`, in order (2 per multiply-add;
    a transposed convolution uses each kernel weight once per input pixel)."""
    flops = []
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights or weights[0].ndim < 2:
            continue
        kernel = weights[0]
        if kernel.ndim == 2:  # Dense
            flops.append(2 * kernel.size)
            continue
        out_h, out_w = layer.output_shape[1:3]
        in_h, in_w = layer.input_shape[1:3]
        positions = out_h * out_w if layer.__class__.__name__ == "Conv2D" else in_h * in_w
        flops.append(2 * kernel.size * positions)
    return flops


def step_gflops_per_image(generator_filters: int) -> float:
    """The multiply-adds of one DCGAN.train_step per image, pass by pass: each pass over a layer
    costs its forward FLOPs (the gradient of a convolution by its input, or by its kernel, is a
    convolution as large). G: forward, kernel gradients, input gradients of every layer but the
    first (z needs none). D: forward on the real and on the fake batch; for D's loss, kernel
    gradients on both and input gradients on both except the first layer's (the images need
    none); for G's loss, input gradients on the fake batch through every layer."""
    from trainer_module.run import build_dcgan

    gan = build_dcgan(TrainerSettings.of(PipelineConfig(generator_filters=generator_filters)))
    g = layer_flops(gan.generator)
    d = layer_flops(gan.discriminator)
    generator = 2 * sum(g) + sum(g[1:])
    discriminator = 2 * sum(d) + 2 * sum(d) + 2 * sum(d[1:]) + sum(d)
    return (generator + discriminator) / 1e9


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--torch-python", default=str(ROOT / ".venv-torch" / "bin" / "python"))
    parser.add_argument("--variants", action="store_true")
    parser.add_argument("--avx2", action="store_true")
    parser.add_argument("--bf16", action="store_true", help="add the bfloat16 contenders (BF16)")
    parser.add_argument("--extras", action="store_true", help="add our step less each extra")
    parser.add_argument("--matmul-peak", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.matmul_peak:
        print(measure_matmul_peak())
        return
    print(cpu_description(), flush=True)
    runs = contenders(
        args.steps, args.torch_python, args.variants, args.avx2, args.bf16, args.extras
    )
    results = {name: [] for name in runs}
    for round_index in range(args.rounds):
        for name, (command, extra_env) in runs.items():
            results[name].append(images_per_second(command, extra_env))
            print(f"round {round_index + 1} {name}: {results[name][-1]:.1f} img/s", flush=True)
    medians = {name: statistics.median(values) for name, values in results.items()}
    print("\nmedian img/s (batch 128):")
    for name, value in medians.items():
        print(f"  {name:16s} {value:7.1f}   ours / {name} = {medians['ours'] / value:.2f}x")
    widths = {"ours": SEED_GENERATOR_FILTERS, "ours_default": PipelineConfig().generator_filters}
    flops = {name: step_gflops_per_image(filters) for name, filters in widths.items()}
    print(
        "\nstep GFLOP/image: "
        + ", ".join(
            f"{name} (G {widths[name]} filters) {value:.2f}" for name, value in flops.items()
        )
    )
    for cap, extra_env in (("", {}), ("_avx2", AVX2_CAP)):
        if f"ours{cap}" not in medians:
            continue
        peak = matmul_peak_gflops(extra_env)
        print(f"matmul peak{' (AVX2)' if extra_env else ''} {peak:.0f} GFLOP/s")
        for name in widths:
            bound = peak / flops[name]
            print(
                f"  bound for {name}{cap} {bound:.1f} img/s; it reaches "
                f"{medians[name + cap] / bound:.0%}"
            )
    for ours_name, twin in (
        ("ours", "torch"),
        ("ours_default", "torch_default"),
        ("ours_bf16", "torch_bf16"),
        ("ours_default_bf16", "torch_default_bf16"),
    ):
        if ours_name in medians and twin in medians:
            print(
                f"like for like: {ours_name} / {twin} = {medians[ours_name] / medians[twin]:.2f}x"
            )
    if "torch_avx2" in medians:
        print(
            f"ours_avx2 / torch_avx2 = {medians['ours_avx2'] / medians['torch_avx2']:.2f}x;"
            f" ours_avx2 / ours = {medians['ours_avx2'] / medians['ours']:.2f}"
        )


if __name__ == "__main__":
    main()
