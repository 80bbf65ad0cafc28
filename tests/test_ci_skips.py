"""No silent skips: under CI a skip fails the run unless the machine lacks a feature
(tests/ci_skips.py), and docs/tests.md lists every place in the suite that can skip."""

import os
import re
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
DOC = TESTS.parent / "docs" / "tests.md"

SKIPPING = """
import pytest

def test_a_tool_is_missing():
    pytest.skip("no such tool here")

@pytest.mark.skipif(True, reason="this machine lacks a GPU")
def test_a_feature_the_machine_lacks():
    pass

@pytest.mark.xfail(reason="a known failure", strict=True)
def test_an_expected_failure():
    assert False
"""


def run_pytest(tmp_path, ci: bool) -> str:
    (tmp_path / "test_skipping.py").write_text(SKIPPING)
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    if ci:
        env["CI"] = "true"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "ci_skips",
            "-q",
            "-rA",
            "-p",
            "no:cacheprovider",
            str(tmp_path / "test_skipping.py"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(TESTS)},
    )
    return done.stdout


def test_under_ci_a_skip_fails_unless_the_machine_lacks_the_feature(tmp_path):
    out = run_pytest(tmp_path, ci=True)
    assert re.match(r"1 failed, 1 skipped, 1 xfailed in ", out.splitlines()[-1]), out
    assert (
        "FAILED test_skipping.py::test_a_tool_is_missing" in out
        and "skipped under CI, where only a skip for a feature the machine lacks is "
        "allowed: Skipped: no such tool here"
        in out
    ), out


def test_outside_ci_a_skip_is_a_skip(tmp_path):
    summary = run_pytest(tmp_path, ci=False).splitlines()[-1]
    assert re.match(r"2 skipped, 1 xfailed in ", summary), summary


def test_the_docs_list_every_test_file_that_can_skip():
    """Each test file that calls pytest.skip or marks a skipif is named in docs/tests.md's
    list of skips, and the list names no file that no longer skips."""
    skipping = {
        path.name
        for path in TESTS.glob("*.py")
        if path.name != "test_ci_skips.py"
        and re.search(r"pytest\.skip\(|mark\.skipif\(|importorskip\(", path.read_text())
    }
    section = DOC.read_text().split("## Skips", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `tests/([a-z_0-9]+\.py)`", section, re.MULTILINE))
    assert skipping == listed
