"""The fault matrix: every fault × component cell, survived or not, as its tests found it.

    .venv/bin/python bench/faults.py      # about 12 minutes on 2 cores

A cell is backed by the tests marked `@pytest.mark.fault(fault, *components)` (the marker is
declared in pyproject.toml); this runs exactly those tests, the same ones `make test` runs, and
prints a cell as survived only when every test behind it passed. Nothing here decides a verdict
of its own, so the matrix cannot say more than the suite does.
"""

from __future__ import annotations

import collections
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import common as ids  # noqa: E402

COLUMNS = (ids.EXAMPLE_GEN, ids.TRANSFORM, ids.TRAINER, ids.EVALUATOR, ids.PUSHER, "whole run")


class FaultCells:
    """A pytest plugin: which cells each test backs, and each test's outcome."""

    def __init__(self):
        self.cells_of = {}  # test id -> [(fault, component)]
        self.outcome = {}  # test id -> "passed" | "failed" | "skipped"

    def pytest_collection_modifyitems(self, items):
        for item in items:
            self.cells_of[item.nodeid] = [
                (mark.args[0], component)
                for mark in item.iter_markers("fault")
                for component in mark.args[1:]
            ]

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.outcome[report.nodeid] = "failed"
        elif report.skipped:
            self.outcome[report.nodeid] = "skipped"
        elif report.when == "call" and report.nodeid not in self.outcome:
            self.outcome[report.nodeid] = "passed"

    def matrix(self) -> dict:
        """{(fault, component): verdict}, verdict: survived, FAILED or 'not run'."""
        tests = collections.defaultdict(list)
        for nodeid, cells in self.cells_of.items():
            for cell in cells:
                tests[cell].append(self.outcome.get(nodeid, "skipped"))
        return {
            cell: (
                "FAILED"
                if "failed" in outcomes
                else "not run"
                if "skipped" in outcomes
                else "survived"
            )
            for cell, outcomes in tests.items()
        }


def print_matrix(matrix: dict) -> None:
    cells_per_fault = collections.Counter(fault for fault, _ in matrix)
    faults = sorted(cells_per_fault, key=lambda fault: (-cells_per_fault[fault], fault))
    print("\n| fault | " + " | ".join(COLUMNS) + " |")
    print("| --- |" + " --- |" * len(COLUMNS))
    for fault in faults:
        print(f"| {fault} | " + " | ".join(matrix.get((fault, c), "–") for c in COLUMNS) + " |")
    verdicts = collections.Counter(matrix.values())
    print(
        f"\n{len(matrix)} cells tried: {verdicts['survived']} survived, "
        f"{verdicts['FAILED']} failed, {verdicts['not run']} not run ('–': not applicable)"
    )


def main() -> int:
    os.chdir(ROOT)
    cells = FaultCells()
    code = pytest.main(
        ["-m", "fault", "-q", "-p", "no:cacheprovider", "tests"] + sys.argv[1:], plugins=[cells]
    )
    print_matrix(cells.matrix())
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
