"""Images/s of CelebAExampleGen (read, check, decode, write tf.Examples) on the built-in data,
Beam DirectRunner in_memory against multi_processing.

    .venv/bin/python bench/example_gen_throughput.py [--num-images N] [--workers W] [--repeats R]

Prints one line per run: example_gen mode=<mode> workers=<w> images=<n> seconds=<s>
img_per_s=<f>. The time includes Beam's start-up, as a pipeline run pays it; on a shared machine
run it when the cores are quiet and compare modes from the same invocation.
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

from bench_data import dataset_root, run_example_gen  # noqa: E402

from pipeline_config import PipelineConfig  # noqa: E402

MODES = ("in_memory", "multi_processing")


def beam_args(mode: str, workers: int) -> list:
    return [
        "--runner=DirectRunner",
        f"--direct_running_mode={mode}",
        f"--direct_num_workers={workers}",
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--num-images", type=int, default=PipelineConfig().synthetic_num_images)
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count(),
        help="multi_processing workers (in_memory always uses 1)",
    )
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    data_root = dataset_root(PipelineConfig(), args.num_images)
    for _ in range(args.repeats):
        for mode in MODES:
            workers = 1 if mode == "in_memory" else args.workers
            with tempfile.TemporaryDirectory() as out:
                started = time.perf_counter()
                run_example_gen(data_root, out, beam_pipeline_args=beam_args(mode, workers))
                seconds = time.perf_counter() - started
            print(
                f"example_gen mode={mode} workers={workers} images={args.num_images} "
                f"seconds={seconds:.1f} img_per_s={args.num_images / seconds:.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
