"""Runs the whole pipeline on this machine: LocalDagRunner, SQLite metadata, Beam DirectRunner.

    python pipeline/run_local.py                    # the default config, built-in data
    python pipeline/run_local.py --data-root DIR    # a folder in the CelebA layout

Prints where the pushed generator, the sample grid and the metrics are, and writes the run's
report page (<output root>/reports/<pipeline>/<run id>.html); exits non-zero with a one-line
reason on failure.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

# Run as a script, Python puts this file's folder first on sys.path, where its modules would
# shadow the project's top-level packages (pipeline/pipeline.py the `pipeline` package): the
# repository's top level takes its place, as `python -m pipeline.run_local` from it would give.
_FOLDER, _TOP_LEVEL = Path(__file__).resolve().parent, Path(__file__).resolve().parents[1]
sys.path[:] = [str(_TOP_LEVEL)] + [p for p in sys.path if Path(p or ".").resolve() != _FOLDER]

from pipeline import console, disk_full, run_lock  # noqa: E402  (stdlib only: TensorFlow not loaded yet)

if TYPE_CHECKING:
    from pipeline_config import PipelineConfig


class OneLineErrors(argparse.ArgumentParser):
    """Refuses a bad argument in one line (exit 2), before anything runs; --help has the rest."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (--help lists the options)\n")


def positive_int(text: str) -> int:
    """A count of steps or images: a whole number above 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not above 0")
    return value


def parse_args(argv=None) -> argparse.Namespace:
    parser = OneLineErrors(prog="run_local.py", description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", help="CelebA-layout folder (default: the built-in data)")
    parser.add_argument(
        "--output-root",
        help="where the pipeline root, metadata and pushed models go (default: ./outputs)",
    )
    parser.add_argument(
        "--num-images",
        type=positive_int,
        help="size of the built-in synthetic set (not with --data-root)",
    )
    parser.add_argument(
        "--train-steps", type=positive_int, help="Trainer steps of batch_size images"
    )
    parser.add_argument("--no-cache", action="store_true", help="re-run every component")
    parser.add_argument(
        "--verbose", action="store_true", help="TFX, Beam and TensorFlow logs and library warnings"
    )
    args = parser.parse_args(argv)
    if args.data_root and args.num_images:
        parser.error("--num-images sizes the built-in set; a --data-root folder is read as it is")
    return args


def config_from_args(args: argparse.Namespace) -> PipelineConfig:
    from pipeline_config import PipelineConfig

    overrides = {
        "data_root": args.data_root,
        "output_root": args.output_root,
        "synthetic_num_images": args.num_images,
        "train_steps": args.train_steps,
    }
    config = PipelineConfig().with_overrides(
        **{key: value for key, value in overrides.items() if value is not None}
    )
    if args.data_root:  # a user's folder is read as it is, never generated into
        config = config.with_overrides(synthetic_num_images=0)
    if args.no_cache:
        config = config.with_overrides(enable_cache=False)
    return config


def prepare_data(config: PipelineConfig) -> None:
    """Generates the built-in synthetic set into data_root when it is the configured source."""
    if config.synthetic_num_images > 0:
        from data.synthetic_celeba import ensure_dataset

        ensure_dataset(config.data_root, config.synthetic_num_images, config.synthetic_seed)
    elif not os.path.isdir(config.data_root):
        raise FileNotFoundError(f"data root {config.data_root} does not exist")


def run(config: PipelineConfig) -> None:
    from tfx import v1 as tfx

    from pipeline.pipeline import create_pipeline

    os.makedirs(os.path.dirname(config.metadata_path), exist_ok=True)
    tfx.orchestration.LocalDagRunner().run(
        create_pipeline(
            config,
            tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path),
        )
    )


def calibrated_lines(metrics: dict) -> list:
    """Precision and recall of the primary extractor next to real images' own (the gate asks
    for a fraction of those); none when the evaluator measured neither."""
    name = metrics["primary_metric"].split("/", 1)[1]
    parts = [
        f"{metric}/{name}: {metrics[f'{metric}/{name}']:.3f} (real vs real "
        f"{metrics[f'{metric}/{name}_real_vs_real']:.3f})"
        for metric in ("precision", "recall")
        if f"{metric}/{name}" in metrics and f"{metric}/{name}_real_vs_real" in metrics
    ]
    return ["  " + ", ".join(parts)] if parts else []


def print_summary(config: PipelineConfig, seconds: float) -> None:
    """The closing summary, ending with the path of the run's report page, written here."""
    from components.gan_evaluator.results import METRICS_FILE
    from reporting.report_html import write_report
    from reporting.run_outputs import read_run_outputs

    outputs = read_run_outputs(config.metadata_path)
    m = outputs.metrics
    key = m["primary_metric"]
    states = ", ".join(
        f"{count} {state.lower()}" for state, count in sorted(outputs.executions.items())
    )
    print(
        f"\nRun {outputs.run_id} finished in {seconds:.0f} s ({states}"
        f"{'; served from cache' if outputs.fully_cached else ''})."
    )
    print(outputs.ingestion_summary)
    print(
        f"  {key}: trained {m[key]:.3f}, untrained generator {m[key + '_untrained']:.3f}"
        f" (ratio {m[key + '_ratio_to_untrained']:.3f})"
    )
    for line in calibrated_lines(m):
        print(line)
    print(f"  Metrics:       {os.path.join(outputs.evaluation_dir, METRICS_FILE)}")
    print(f"  Sample grid:   {outputs.sample_grid}")
    if outputs.pushed_model:
        print(f"  Pushed model:  {outputs.pushed_model}")
    else:
        print("  Not pushed: " + "; ".join(m["not_blessed_reasons"]))
        print(
            "  Train on:      a model short of the gate most often needs more steps: rerun "
            f"with --train-steps above {config.train_steps}, and the Trainer resumes from "
            "this run's last checkpoint (docs/quality.md, Seeds)"
        )
    print(f"  Run report:    {write_report(config.metadata_path, config.output_root)}")


def main(argv=None) -> int:
    args = parse_args(argv)
    console.set_up(args.verbose)
    return run_and_report(config_from_args(args), args.verbose)


def run_and_report(config: PipelineConfig, verbose: bool) -> int:
    """One run at a time on an output root: data, pipeline, summary. Returns the exit code;
    a failure is one line on stderr (a full disk says which path, and that a rerun resumes)."""
    started = time.perf_counter()
    try:
        with run_lock.exclusive_run(config.metadata_path):
            prepare_data(config)
            with console.component_lines(verbose):
                run(config)
            print_summary(config, time.perf_counter() - started)
    except run_lock.RunInProgress as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except Exception as err:  # one line for the user; --verbose has the traceback in the logs
        if verbose:
            logging.exception("pipeline failed")
        print(f"error: {failure_line(err, config)}", file=sys.stderr)
        return 1
    return 0


def failure_line(err: BaseException, config: PipelineConfig) -> str:
    full = disk_full.full_disk_path(err, config.metadata_path)
    if full is not None:
        return (
            f"disk full: no space left on the device writing {full or config.output_root}; "
            "free space there and "
            "run the same command again (finished components are reused, the Trainer "
            "resumes from its last checkpoint)"
        )
    return f"pipeline failed: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"


if __name__ == "__main__":
    sys.exit(main())
