"""The values that thresholds are applied to after real training, written down for their margins.

A test that applies a threshold to a value real training produced calls `measured(what, value,
limit)` before asserting. With MEASURED_MARGINS=<file> in the environment each call appends one
JSON line (the test, what, the value, the limit), so one run of those tests on a CPU kind lists
every such value beside its limit; the comment at each threshold quotes the runs on AVX-512 and on
oneDNN capped at AVX2 (docs/tests.md, "Margins", has the command). A failure on another CPU is
read against those figures.
"""

import json
import os

import numpy as np

ENVIRONMENT_VARIABLE = "MEASURED_MARGINS"


def measured(what: str, value, limit) -> None:
    path = os.environ.get(ENVIRONMENT_VARIABLE)
    if not path:
        return
    with open(path, "a") as f:
        f.write(
            json.dumps(
                {
                    "test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0],
                    "what": what,
                    "value": float(value),
                    "limit": float(limit),
                }
            )
            + "\n"
        )


def largest_relative_difference(got, expected, floor: float = 1e-12) -> float:
    """max |got - expected| / |expected| over every element (dicts: over their values)."""
    if isinstance(expected, dict):
        return max(
            largest_relative_difference(got[key], value, floor) for key, value in expected.items()
        )
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    return float(np.max(np.abs(got - expected) / np.maximum(np.abs(expected), floor)))


def tolerance_used(got, expected, rtol: float, atol: float) -> float:
    """The largest |got - expected| / (atol + rtol |expected|) over every element: the share of
    numpy's allclose tolerance a comparison used (at most 1 passes)."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    return float(np.max(np.abs(got - expected) / (atol + rtol * np.abs(expected))))
