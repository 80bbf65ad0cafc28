"""Runs the tiny pipeline (tests/tiny_pipeline.py) under ROOT as `make run` runs the default:
the run lock, the built-in data, one console line per component. For tests that kill it.

    python pipeline_worker.py ROOT
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from pipeline import console, run_lock, run_local  # noqa: E402
from tiny_pipeline import tiny_config  # noqa: E402


def main(root: str) -> None:
    console.set_up(verbose=False)
    config = tiny_config(Path(root))
    with run_lock.exclusive_run(config.metadata_path):
        run_local.prepare_data(config)
        with console.component_lines(verbose=False):
            run_local.run(config)
    print("RUN COMPLETE", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
