"""Images/s of the Trainer's own DCGAN step (trainer_module), on a fixed in-memory batch.

    .venv/bin/python bench/train_step.py [--steps N] [--batch B] [--policy P] [--jit]
                                         [--inter-op N] [--intra-op N] [--no-fusion]

Prints one line: train_step img_per_s=<float>. Compare with ../shared/bench/seed_keras.py and
torch_dcgan.py run back to back on the same machine (bench/train_speed.py does).
The options are the speed-ups bench/train_speed.py --variants tries: a Keras mixed-precision
policy (mixed_bfloat16 uses the CPU's bf16 instructions), XLA, TensorFlow's thread pools, and
--no-fusion (grappler's remapper off: no fused conv + bias + activation or fused batch norm) to
show what those fusions give.
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from celeba_dcgan import bootstrap  # noqa: E402

bootstrap.start()

import tensorflow as tf  # noqa: E402

from celeba_dcgan.common import graph_function  # noqa: E402
from celeba_dcgan.pipeline_config import PipelineConfig  # noqa: E402
from celeba_dcgan.trainer_module.run import build_dcgan, set_precision  # noqa: E402


def train_step_images_per_second(steps: int, batch_size: int, jit: bool = False) -> float:
    gan = build_dcgan(PipelineConfig().trainer_settings())
    step = graph_function(gan.train_step, jit_compile=jit)
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
    parser.add_argument("--policy", default="float32")
    parser.add_argument("--jit", action="store_true")
    parser.add_argument("--inter-op", type=int, default=0, help="0: TensorFlow's default")
    parser.add_argument("--intra-op", type=int, default=0, help="0: TensorFlow's default")
    parser.add_argument("--no-fusion", action="store_true")
    args = parser.parse_args()
    if args.no_fusion:
        tf.config.optimizer.set_experimental_options({"remapping": False})
    tf.config.threading.set_inter_op_parallelism_threads(args.inter_op)
    tf.config.threading.set_intra_op_parallelism_threads(args.intra_op)
    set_precision(args.policy)
    rate = train_step_images_per_second(args.steps, args.batch, args.jit)
    print(f"train_step img_per_s={rate:.2f}")


if __name__ == "__main__":
    main()
