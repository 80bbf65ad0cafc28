"""Runs the tiny pipeline (tests/tiny_pipeline.py) under ROOT as `make run` runs the default:
the runner's own path (run lock, built-in data, one console line per component, the summary,
a one-line error and exit 1 on failure). For tests that kill it or fill its disk; with
FAULT_POINT=<component> it stops inside that component for the test to kill it
(tests/fault_points.py).

    python pipeline_worker.py ROOT
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import tf_environment  # noqa: E402, F401  (set before TensorFlow loads)

import fault_points  # noqa: E402
from tiny_pipeline import tiny_config  # noqa: E402

from pipeline import console, run_local  # noqa: E402

if __name__ == "__main__":
    fault_points.install_from_environment()
    console.set_up(verbose=False)
    sys.exit(run_local.run_and_report(tiny_config(Path(sys.argv[1])), verbose=False))
