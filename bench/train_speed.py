"""Train-step images/s: our Trainer's step vs the seed's plain Keras (loop and fit) vs PyTorch.

    make bench-train            # creates .venv-torch (Python 3.11, torch 2.13.0 CPU) once
    .venv/bin/python bench/train_speed.py [--rounds 3] [--steps 8] [--torch-python PATH]
                                          [--variants]

Each contender runs in its own process, alternating round by round, so drift on a shared
machine hits all of them alike; prints the median img/s of each, ratios to ours, and our step's
fraction of the float32 matmul-peak bound measured in the same run. --variants adds our step
under each speed-up in VARIANTS to the same alternation.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_BENCH = ROOT.parent / "shared" / "bench"


# Our step with one change each: (extra arguments to bench/train_step.py, extra environment).
VARIANTS = {
    "ours_onednn_off": ([], {"TF_ENABLE_ONEDNN_OPTS": "0"}),
    "ours_inter_op_1": (["--inter-op", "1"], {}),
    "ours_intra_op_1": (["--intra-op", "1"], {}),
    "ours_xla": (["--jit"], {}),
    "ours_bf16": (["--policy", "mixed_bfloat16"], {}),
    "ours_no_fusion": (["--no-fusion"], {}),
}


def contenders(steps: int, torch_python: str, variants: bool = False) -> dict:
    """name -> (command, extra environment)."""
    python = sys.executable
    ours = [python, str(ROOT / "bench" / "train_step.py"), "--steps", str(steps)]
    runs = {
        "ours": ours,
        "seed_loop": [python, str(SEED_BENCH / "seed_keras.py"), "--keras", "tf", "--mode", "loop",
                      "--steps", str(steps)],
        "seed_fit": [python, str(SEED_BENCH / "seed_keras.py"), "--keras", "tf", "--mode", "fit",
                     "--steps", str(steps)],
    }
    if torch_python and Path(torch_python).exists():
        runs["torch"] = [torch_python, str(SEED_BENCH / "torch_dcgan.py"), "--steps", str(steps)]
    runs = {name: (command, {}) for name, command in runs.items()}
    if variants:
        runs.update({name: (ours + extra, env) for name, (extra, env) in VARIANTS.items()})
    return runs


def images_per_second(command: list, extra_env: dict) -> float:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **extra_env)
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    return float(out.strip().splitlines()[-1].split("img_per_s=")[1])


def matmul_peak_gflops(size: int = 2048, repeats: int = 10) -> float:
    sys.path.insert(0, str(ROOT))
    from celeba_dcgan import legacy_keras  # noqa: F401  (Keras 2 before TensorFlow loads)
    import tensorflow as tf
    a = tf.random.normal([size, size])
    tf.matmul(a, a).numpy()
    started = time.perf_counter()
    for _ in range(repeats):
        c = tf.matmul(a, a)
    c.numpy()
    return 2 * size ** 3 * repeats / (time.perf_counter() - started) / 1e9


def step_gflops_per_image() -> float:
    """~3x the forward FLOPs of G plus two D passes (real and fake): forward + backward."""
    sys.path.insert(0, str(ROOT))
    from celeba_dcgan.trainer_module.networks import build_discriminator, build_generator

    def forward_flops(model) -> float:
        total = 0.0
        for layer in model.layers:
            weights = layer.get_weights()
            if not weights or weights[0].ndim < 2:
                continue
            kernel = weights[0]
            if kernel.ndim == 2:  # Dense
                total += 2 * kernel.size
            else:  # Conv2D / Conv2DTranspose: every kernel weight used once per output (input) pixel
                out_h, out_w = layer.output_shape[1:3]
                in_h, in_w = layer.input_shape[1:3]
                positions = out_h * out_w if layer.__class__.__name__ == "Conv2D" else in_h * in_w
                total += 2 * kernel.size * positions
        return total

    return 3 * (forward_flops(build_generator()) + 2 * forward_flops(build_discriminator())) / 1e9


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--torch-python", default=str(ROOT / ".venv-torch" / "bin" / "python"))
    parser.add_argument("--variants", action="store_true")
    args = parser.parse_args()
    runs = contenders(args.steps, args.torch_python, args.variants)
    results = {name: [] for name in runs}
    for round_index in range(args.rounds):
        for name, (command, extra_env) in runs.items():
            results[name].append(images_per_second(command, extra_env))
            print(f"round {round_index + 1} {name}: {results[name][-1]:.1f} img/s", flush=True)
    medians = {name: statistics.median(values) for name, values in results.items()}
    print("\nmedian img/s (batch 128):")
    for name, value in medians.items():
        print(f"  {name:16s} {value:7.1f}   ours / {name} = {medians['ours'] / value:.2f}x")
    peak, flops = matmul_peak_gflops(), step_gflops_per_image()
    bound = peak / flops
    print(f"\nmatmul peak {peak:.0f} GFLOP/s, step {flops:.2f} GFLOP/image -> bound {bound:.1f} img/s;"
          f" ours reaches {medians['ours'] / bound:.0%} of it")


if __name__ == "__main__":
    main()
