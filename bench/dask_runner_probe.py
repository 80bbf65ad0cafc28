"""What Beam's DaskRunner (Beam 2.74, experimental) runs, against the DirectRunner, on a local
dask.distributed cluster of 2 worker processes.

    .venv/bin/python bench/dask_runner_probe.py        # about a minute on 2 cores

Each case is a small pipeline built from a transform our Beam stages use (ExampleGen's own, and
what StatisticsGen and Transform run inside TFDV and TFT): reading files, writing files, a
combiner, a side input, several sinks, tagged outputs, a partition. Each runs on both runners
into its own folder and the final output files (Beam's temporary folders left aside) are
compared. Last, CelebAExampleGen's executor runs on both. One line per case:

    dask_probe case=<name> direct=<result> dask=<result> equal=<yes|no>

where a result is the sorted lines of the final files, or the error. docs/scale.md has the
table and what it means for the pipeline.
"""

import glob
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import bootstrap  # noqa: E402

bootstrap.start()

import apache_beam as beam  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402

DASK_RUNNER = "apache_beam.runners.dask.dask_runner.DaskRunner"  # not in Beam's short names
WORKERS = 2


class _SplitOddEven(beam.DoFn):
    def process(self, number):
        yield beam.pvalue.TaggedOutput("odd", number) if number % 2 else number


def _write(pcoll, out, name):
    return pcoll | f"Write{name}" >> beam.io.WriteToText(os.path.join(out, name))


# Each case: (pipeline, scratch folder with an input file, output folder) -> None.
CASES = {
    "create_map_write": lambda p, src, out: _write(
        p | beam.Create(range(6)) | beam.Map(lambda x: x * 2), out, "a"
    ),
    "read_text": lambda p, src, out: _write(
        p | beam.io.ReadFromText(os.path.join(src, "lines.txt")), out, "a"
    ),
    "read_tfrecord": lambda p, src, out: _write(
        p | beam.io.ReadFromTFRecord(os.path.join(src, "records.tfrecord")), out, "a"
    ),
    "combine_per_key": lambda p, src, out: _write(
        p | beam.Create([("a", 1), ("b", 2), ("a", 3)]) | beam.CombinePerKey(sum), out, "a"
    ),
    "side_input": lambda p, src, out: _write(
        p
        | "Main" >> beam.Create(range(3))
        | beam.Map(
            lambda x, side: x + side[0], side=beam.pvalue.AsList(p | "Side" >> beam.Create([10]))
        ),
        out,
        "a",
    ),
    "two_sinks": lambda p, src, out: [
        _write(numbers, out, name)
        for numbers in [p | beam.Create(range(4))]
        for name in ("one", "two")
    ],
    "partition": lambda p, src, out: [
        _write(part, out, f"part{index}")
        for index, part in enumerate(
            p | beam.Create(range(6)) | beam.Partition(lambda x, n: x % n, 2)
        )
    ],
    "tagged_outputs": lambda p, src, out: [
        _write(split[tag], out, tag)
        for split in [
            p | beam.Create(range(6)) | beam.ParDo(_SplitOddEven()).with_outputs("odd", main="even")
        ]
        for tag in ("even", "odd")
    ],
}


def final_lines(out: str) -> list:
    """Sorted 'file: line' of the final output files ('file: (empty file)' for an empty one);
    Beam's temporary folders are not output."""
    found = []
    for path in sorted(glob.glob(os.path.join(out, "*"))):
        if os.path.isfile(path):
            name = os.path.basename(path).split("-")[0]
            with open(path) as f:
                lines = [f"{name}: {line.strip()}" for line in f]
            found += lines or [f"{name}: (empty file)"]
    return sorted(found)


def run_case(case, src: str, out: str, args: list) -> str:
    shutil.rmtree(out, ignore_errors=True)
    try:
        with beam.Pipeline(options=PipelineOptions(args)) as pipeline:
            case(pipeline, src, out)
    except Exception as err:  # the runner's own error is the finding
        return f"error {type(err).__name__}: {str(err).splitlines()[0][:120]}"
    return str(final_lines(out))


def run_example_gen(data: str, out: str, args: list) -> str:
    from bench_data import run_example_gen as example_gen

    shutil.rmtree(out, ignore_errors=True)
    try:
        example_gen(data, out, beam_pipeline_args=args)
    except Exception as err:
        return f"error {type(err).__name__}: {str(err).splitlines()[0][:120]}"
    files = sorted(
        os.path.relpath(path, out) for path in glob.glob(os.path.join(out, "Split-*", "*"))
    )
    return f"{len(files)} split files {files}"


def main() -> None:
    import tensorflow as tf
    from distributed import LocalCluster

    from data.synthetic_celeba import ensure_dataset

    with tempfile.TemporaryDirectory() as scratch:
        src = os.path.join(scratch, "src")
        os.makedirs(src)
        with open(os.path.join(src, "lines.txt"), "w") as f:
            f.write("x\ny\nz\n")
        with tf.io.TFRecordWriter(os.path.join(src, "records.tfrecord")) as writer:
            for record in (b"r1", b"r2"):
                writer.write(record)
        cluster = LocalCluster(
            n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None
        )
        runners = {
            "direct": ["--runner=DirectRunner"],
            "dask": [
                f"--runner={DASK_RUNNER}",
                f"--dask_client_address={cluster.scheduler_address}",
            ],
        }
        try:
            for name, case in CASES.items():
                got = {
                    runner: run_case(case, src, os.path.join(scratch, runner, name), args)
                    for runner, args in runners.items()
                }
                print(
                    f"dask_probe case={name} direct={got['direct']} dask={got['dask']} "
                    f"equal={'yes' if got['direct'] == got['dask'] else 'no'}",
                    flush=True,
                )
            data = str(ensure_dataset(os.path.join(scratch, "faces"), 60, 0))
            got = {
                runner: run_example_gen(data, os.path.join(scratch, runner, "example_gen"), args)
                for runner, args in runners.items()
            }
            print(
                f"dask_probe case=celeba_example_gen direct={got['direct']} "
                f"dask={got['dask']} equal={'yes' if got['direct'] == got['dask'] else 'no'}",
                flush=True,
            )
        finally:
            cluster.close()


if __name__ == "__main__":
    main()
