"""Images/s of the Trainer's own DCGAN step (trainer_module), on a fixed in-memory batch.

    .venv/bin/python bench/train_step.py [--steps N] [--batch B] [--policy P] [--jit]
                                         [--inter-op N] [--intra-op N] [--no-fusion]
                                         [--losses] [--generator-filters N]
                                         [--set NAME=VALUE ...] [--plain-adam]

Prints one line: train_step img_per_s=<float> (with --losses: the losses of each step, as JSON,
before it; bench/kernel_numerics.py compares them across kernel settings). Compare with
bench/reference/seed_keras.py and
torch_dcgan.py run back to back on the same machine (bench/train_speed.py does).
The options are the speed-ups bench/train_speed.py --variants tries: a Keras mixed-precision
policy (mixed_bfloat16 uses the CPU's bf16 instructions), XLA, TensorFlow's thread pools, and
--no-fusion (grappler's remapper off: no fused conv + bias + activation or fused batch norm) to
show what those fusions give. --generator-filters sets G's width (default: the Trainer's);
bench/train_speed.py passes the seed's, which its Keras benchmark and the PyTorch twin build.
--set changes any Trainer setting (e.g. generator_ema_decay=0: no weight average) and
--plain-adam swaps FusedAdam for Keras' Adam: what each of the step's extras costs
(bench/train_speed.py --extras).
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import bootstrap  # noqa: E402

bootstrap.start()

import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402
from bench_data import parse_overrides  # noqa: E402

from common import graph_function  # noqa: E402
from pipeline_config import PipelineConfig  # noqa: E402
from trainer_module.precision import set_precision  # noqa: E402
from trainer_module.run import build_dcgan  # noqa: E402
from trainer_module.settings import TrainerSettings  # noqa: E402


def config_with_generator_filters(
    generator_filters: int | None = None, changes: dict | None = None
) -> PipelineConfig:
    """The default config, with G's width set when given (None: the Trainer's default) and any
    other `changes`."""
    config = PipelineConfig().with_overrides(**(changes or {}))
    if generator_filters is None:
        return config
    return config.with_overrides(generator_filters=generator_filters)


def train_step_images_per_second(
    steps: int,
    batch_size: int,
    jit: bool = False,
    losses: list | None = None,
    generator_filters: int | None = None,
    changes: dict | None = None,
    plain_adam: bool = False,
) -> float:
    """Images/s over `steps` steps after three warm-up ones; `losses`, if given, gets every
    step's (d_loss, g_loss), warm-up included (read back after each step, so slower)."""
    settings = TrainerSettings.of(config_with_generator_filters(generator_filters, changes))
    gan = build_dcgan(settings)
    if plain_adam:
        gan.compile(
            g_optimizer=tf_keras.optimizers.Adam(settings.g_learning_rate, settings.beta_1),
            d_optimizer=tf_keras.optimizers.Adam(settings.d_learning_rate, settings.beta_1),
        )
    step = graph_function(gan.train_step, jit_compile=jit)
    batch = tf.random.stateless_uniform([batch_size, 64, 64, 3], [0, 0], -1, 1)
    for _ in range(3):  # trace and warm up
        logs = step(batch)
        float(logs["d_loss"])
        if losses is not None:
            losses.append((float(logs["d_loss"]), float(logs["g_loss"])))
    started = time.perf_counter()
    for _ in range(steps):
        logs = step(batch)
        if losses is not None:
            losses.append((float(logs["d_loss"]), float(logs["g_loss"])))
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
    parser.add_argument("--losses", action="store_true")
    parser.add_argument("--generator-filters", type=int, help="default: the Trainer's")
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE")
    parser.add_argument("--plain-adam", action="store_true", help="Keras' Adam, not FusedAdam")
    args = parser.parse_args()
    if args.no_fusion:
        tf.config.optimizer.set_experimental_options({"remapping": False})
    tf.config.threading.set_inter_op_parallelism_threads(args.inter_op)
    tf.config.threading.set_intra_op_parallelism_threads(args.intra_op)
    set_precision(args.policy)
    losses = [] if args.losses else None
    rate = train_step_images_per_second(
        args.steps,
        args.batch,
        args.jit,
        losses,
        args.generator_filters,
        parse_overrides(args.set),
        args.plain_adam,
    )
    if losses is not None:
        print(json.dumps(losses))
    print(f"train_step img_per_s={rate:.2f}")


if __name__ == "__main__":
    main()
