"""The local pipeline at CelebA's full size: time and peak memory per component at 20,000 and at
202,599 images, and Transform's steady rate against a plain tf.data loop doing the same work.

    .venv/bin/python bench/full_size.py [--sizes 20000 202599] [--train-steps 20] [--workers 2]

For each size:
- the built-in set is drawn with --workers processes (timed; kept in /tmp for the next time);
- the local runner's pipeline up to the Trainer (CelebAExampleGen, StatisticsGen,
  ImportSchemaGen, ExampleValidator, AnomalyGate, Transform, a Trainer of --train-steps steps)
  runs in a process of its own, with the default config's Beam settings and no cache; the RSS
  of its process tree is sampled every 0.2 s and each sample counts for the component running
  at that moment (the console's "<component> ..." lines mark them);
- the Trainer's pass counting the training records (its epoch length) is timed alone.
Then, at the largest size, a tf.data loop does Transform's per-image work (read the JPEG,
decode, crop, resize, encode the PNG, write GZIP TFRecords) on all cores. Transform's steady
rate is the difference between the two sizes' images over the difference of their Transform
times, which takes its fixed start-up out.

Prints `full_size images=<n> component=<name> seconds=<s> peak_rss_mb=<m>` per component, then
`count_pass`, `draw`, `transform_steady` and `tf_data` lines. Long (about an hour for both sizes
on 2 cores): run it in the background, alone on the machine.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
import bootstrap  # noqa: E402

bootstrap.start()

import common as ids  # noqa: E402

CELEBA_IMAGES = 202_599
SAMPLE_SECONDS = 0.2


class TreeMemory:
    """Peak RSS of a process and its children, per phase, sampled in a thread."""

    def __init__(self, pid: int):
        self.process = psutil.Process(pid)
        self.phase = "start-up"
        self.peaks = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _rss(self) -> int:
        total = 0
        for process in [self.process] + self.process.children(recursive=True):
            try:
                total += process.memory_info().rss
            except psutil.Error:
                pass
        return total

    def sample(self):
        try:
            rss = self._rss()
        except psutil.Error:  # the process has ended
            return
        self.peaks[self.phase] = max(self.peaks.get(self.phase, 0), rss)

    def enter(self, phase: str):
        """From now on samples count for `phase`; one is taken at once, so that a phase shorter
        than the sampling interval has one too."""
        self.phase = phase
        self.sample()

    def _sample(self):
        while not self._done.wait(SAMPLE_SECONDS):
            self.sample()

    def stop(self):
        self._done.set()
        self._thread.join()


def run_pipeline(data_root: str, output_root: str, train_steps: int) -> None:
    """In the child process: the pipeline up to the Trainer, the console's component lines."""
    import tf_environment  # noqa: F401

    from tfx import v1 as tfx
    from tfx.orchestration.pipeline import RunOptions

    from pipeline import console
    from pipeline.pipeline import create_pipeline
    from pipeline_config import PipelineConfig

    config = PipelineConfig(
        data_root=data_root,
        output_root=output_root,
        synthetic_num_images=0,
        train_steps=train_steps,
        enable_cache=False,
    )
    os.makedirs(os.path.dirname(config.metadata_path), exist_ok=True)
    connection = tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path)
    console.set_up(verbose=False)
    with console.component_lines(verbose=False):  # a partial run, up to the Trainer
        tfx.orchestration.LocalDagRunner().run(
            create_pipeline(config, connection), run_options=RunOptions(to_nodes=[ids.TRAINER])
        )


def measure_pipeline(data_root: str, output_root: str, train_steps: int, images: int) -> dict:
    """{component: (seconds, peak RSS in MB)} of the pipeline run in a child process."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--run-pipeline", data_root, output_root, str(train_steps)],
        stdout=subprocess.PIPE,
        text=True,
    )
    memory = TreeMemory(child.pid)
    started, results = {}, {}
    for line in child.stdout:
        line = line.rstrip("\n")
        if line.endswith(" ..."):
            started[line[:-4]] = time.perf_counter()
            memory.enter(line[:-4])
        elif " done in " in line:
            name = line.split(" done in ")[0]
            results[name] = time.perf_counter() - started[name]
            memory.enter("between")
    if child.wait() != 0:
        raise SystemExit(f"the pipeline failed on {images} images (exit {child.returncode})")
    memory.stop()
    return {name: (seconds, memory.peaks.get(name, 0) / 2**20) for name, seconds in results.items()}


def transformed_train_files(output_root: str) -> list:
    root = Path(output_root, "pipeline")
    (split_dir,) = [p for p in root.glob("*/Transform/transformed_examples/*/Split-train")]
    return [str(p) for p in split_dir.iterdir()]


def count_pass_seconds(output_root: str) -> tuple:
    import tf_environment  # noqa: F401

    from trainer_module.run import count_examples

    started = time.perf_counter()
    count = count_examples(transformed_train_files(output_root))
    return count, time.perf_counter() - started


def tf_data_transform_rate(data_root: str, out_dir: str) -> float:
    """Images/s of Transform's per-image work in a bare tf.data loop on all cores: read the
    JPEG, then the preprocessing_fn's own face_png (decode, crop, resize, round, encode the
    PNG), and write one GZIP TFRecord file."""
    import tf_environment  # noqa: F401

    import tensorflow as tf

    from data import celeba_files
    from pipeline_config import PipelineConfig
    from trainer_module.preprocessing import face_png

    config = PipelineConfig()
    image_dir = Path(data_root, celeba_files.IMAGE_DIR)
    files = sorted(str(p) for p in image_dir.iterdir())
    dataset = (
        tf.data.Dataset.from_tensor_slices(files)
        .map(tf.io.read_file, num_parallel_calls=tf.data.AUTOTUNE)
        .map(
            lambda jpeg: face_png(jpeg, config.crop_mode, config.image_size),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        .prefetch(tf.data.AUTOTUNE)
    )
    started = time.perf_counter()
    with tf.io.TFRecordWriter(os.path.join(out_dir, "images.gz"), "GZIP") as writer:
        for png in dataset:
            writer.write(png.numpy())
    return len(files) / (time.perf_counter() - started)


def draw(images: int, workers: int) -> tuple:
    """(data root, seconds to draw it; 0 when it was there)."""
    from data.synthetic_celeba import ensure_dataset
    from pipeline_config import PipelineConfig

    root = os.path.join(tempfile.gettempdir(), f"synthetic_celeba_{images}")
    started = time.perf_counter()
    ensure_dataset(root, images, PipelineConfig().synthetic_seed, workers=workers)
    return root, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, CELEBA_IMAGES])
    parser.add_argument("--train-steps", type=int, default=20)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--run-pipeline", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_pipeline:
        data_root, output_root, steps = args.run_pipeline
        return run_pipeline(data_root, output_root, int(steps))
    transform_seconds = {}
    for images in args.sizes:
        data_root, seconds = draw(images, args.workers)
        print(f"draw images={images} workers={args.workers} seconds={seconds:.0f}", flush=True)
        with tempfile.TemporaryDirectory() as output_root:
            for name, (seconds, peak) in measure_pipeline(
                data_root, output_root, args.train_steps, images
            ).items():
                print(
                    f"full_size images={images} component={name} seconds={seconds:.1f} "
                    f"peak_rss_mb={peak:.0f}",
                    flush=True,
                )
                if name == ids.TRANSFORM:
                    transform_seconds[images] = seconds
            count, seconds = count_pass_seconds(output_root)
            print(
                f"count_pass images={images} train_records={count} seconds={seconds:.1f}",
                flush=True,
            )
    if len(transform_seconds) >= 2:
        small, large = min(transform_seconds), max(transform_seconds)
        steady = (large - small) / (transform_seconds[large] - transform_seconds[small])
        print(f"transform_steady images={small}..{large} img_per_s={steady:.0f}", flush=True)
        with tempfile.TemporaryDirectory() as out_dir:
            rate = tf_data_transform_rate(draw(large, args.workers)[0], out_dir)
        print(f"tf_data images={large} img_per_s={rate:.0f} ratio={steady / rate:.2f}", flush=True)


if __name__ == "__main__":
    main()
