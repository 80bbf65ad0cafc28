"""Images/s of TFX's Transform (our preprocessing_fn, Beam DirectRunner as the local pipeline
runs it) against a plain tf.data decode + crop + resize loop over the same JPEG files, on the
same cores, alternating, as a ratio; plus what Transform's own statistics cost.

    .venv/bin/python bench/transform_throughput.py [--num-images N] [--rounds R]

Prints, per round: transform statistics=<on|off> seconds=<s> img_per_s=<f>, tf_data
img_per_s=<f>, and ratio=<transform off / tf_data>; then the stored bytes per example. Transform's
time includes Beam's and TFT's start-up, as a pipeline run pays it; a run over a small set
(--small-images) measures that fixed cost, and the steady rate is the difference between the two.
ExampleGen runs once per set, untimed.
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

import tensorflow as tf  # noqa: E402
from bench_data import dataset_root, examples_and_schema, run_transform, split_names  # noqa: E402

from data import celeba_files  # noqa: E402
from pipeline_config import PipelineConfig  # noqa: E402
from trainer_module.preprocessing import decode_crop_resize  # noqa: E402


def tf_data_images_per_second(image_dir: str, config: PipelineConfig) -> float:
    """Read, decode, crop and resize every JPEG with tf.data, all cores, nothing written."""
    files = sorted(str(p) for p in Path(image_dir).iterdir())
    dataset = (
        tf.data.Dataset.from_tensor_slices(files)
        .map(tf.io.read_file, num_parallel_calls=tf.data.AUTOTUNE)
        .map(
            lambda encoded: decode_crop_resize(encoded, config.crop_mode, config.image_size),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        .batch(128)
        .prefetch(tf.data.AUTOTUNE)
    )
    started = time.perf_counter()
    count = sum(int(batch.shape[0]) for batch in dataset)
    return count / (time.perf_counter() - started)


def transform_seconds(config: PipelineConfig, examples, schema_dir: str, out: str):
    started = time.perf_counter()
    transformed, _ = run_transform(
        config, examples, schema_dir, out, beam_pipeline_args=config.beam_pipeline_args
    )
    return time.perf_counter() - started, transformed


def stored_bytes(transformed) -> tuple:
    """(records, bytes of the GZIP files on disk, bytes of the serialized examples)."""
    records = disk = raw = 0
    for split in split_names(transformed):
        files = tf.io.gfile.glob(os.path.join(transformed.uri, f"Split-{split}", "*"))
        disk += sum(os.path.getsize(f) for f in files)
        for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
            records += 1
            raw += len(record.numpy())
    return records, disk, raw


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--num-images", type=int, default=PipelineConfig().synthetic_num_images)
    parser.add_argument("--small-images", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    config = PipelineConfig()
    data_root = dataset_root(config, args.num_images)
    image_dir = os.path.join(data_root, celeba_files.IMAGE_DIR)
    with tempfile.TemporaryDirectory() as work:
        examples, schema_dir = examples_and_schema(data_root, work)
        small, _ = examples_and_schema(dataset_root(config, args.small_images), work, "small")
        for round_index in range(args.rounds):
            fixed, _ = transform_seconds(
                config, small, schema_dir, os.path.join(work, f"small{round_index}")
            )
            rates = {}
            for statistics in (False, True):
                seconds, transformed = transform_seconds(
                    config.with_overrides(transform_statistics=statistics),
                    examples,
                    schema_dir,
                    os.path.join(work, f"t{round_index}{statistics}"),
                )
                rates[statistics] = args.num_images / seconds
                print(
                    f"transform statistics={'on' if statistics else 'off'} "
                    f"seconds={seconds:.1f} img_per_s={rates[statistics]:.0f}",
                    flush=True,
                )
                if not statistics:
                    kept = transformed
            extra_seconds = args.num_images / rates[False] - fixed
            # Below the noise when the small set took as long: no steady rate to report.
            steady = (
                (args.num_images - args.small_images) / extra_seconds
                if extra_seconds > 0
                else float("nan")
            )
            tf_data = tf_data_images_per_second(image_dir, config)
            print(
                f"transform small_set={args.small_images} seconds={fixed:.1f} -> steady "
                f"img_per_s={steady:.0f}",
                flush=True,
            )
            print(
                f"tf_data img_per_s={tf_data:.0f} ratio={rates[False] / tf_data:.2f} "
                f"(statistics on: {rates[True] / tf_data:.2f}, steady: {steady / tf_data:.2f})",
                flush=True,
            )
        records, disk, raw = stored_bytes(kept)
        print(
            f"stored examples={records} bytes_per_example on_disk={disk / records:.0f} "
            f"serialized={raw / records:.0f} max_serialized<=16384",
            flush=True,
        )


if __name__ == "__main__":
    main()
