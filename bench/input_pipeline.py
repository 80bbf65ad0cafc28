"""Images/s of the Trainer's input pipeline alone (run_fn's `image_dataset` over Transform's
output: read, parse, decode the PNGs, scale, shuffle, batch) next to the train step's images/s.

    .venv/bin/python bench/input_pipeline.py [--num-images N] [--batches B] [--steps S]

Prints: input_pipeline img_per_s=<f>, train_step img_per_s=<f>, ratio=<input / step> (the
target is >= 5). ExampleGen and Transform run once first, untimed, on the built-in data.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bootstrap  # noqa: E402

bootstrap.start()


from bench_data import (  # noqa: E402
    dataset_root,
    examples_and_schema,
    run_transform,  # noqa: E402
    training_batches,
)
from train_step import train_step_images_per_second  # noqa: E402

from pipeline_config import PipelineConfig  # noqa: E402


def input_images_per_second(config: PipelineConfig, examples, graph, batches: int) -> float:
    iterator = iter(training_batches(config, examples, graph))
    for _ in range(5):  # fill the shuffle buffer and the prefetch
        next(iterator)
    started = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * config.batch_size / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--num-images", type=int, default=PipelineConfig().synthetic_num_images)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--steps", type=int, default=6)
    args = parser.parse_args()
    config = PipelineConfig()
    with tempfile.TemporaryDirectory() as work:
        examples, schema_dir = examples_and_schema(dataset_root(config, args.num_images), work)
        transformed, graph = run_transform(
            config, examples, schema_dir, os.path.join(work, "transform")
        )
        data_rate = input_images_per_second(config, transformed, graph, args.batches)
    print(f"input_pipeline img_per_s={data_rate:.0f}", flush=True)
    step_rate = train_step_images_per_second(args.steps, config.batch_size)
    print(f"train_step img_per_s={step_rate:.1f}", flush=True)
    print(f"ratio={data_rate / step_rate:.1f} (target >= 5)", flush=True)


if __name__ == "__main__":
    main()
