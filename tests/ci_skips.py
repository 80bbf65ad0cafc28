"""Under CI (the `CI` environment variable set, as `.ci/run` sets it) a skipped test fails the
run, unless its reason says the machine lacks the feature the test needs: a green CI must
mean every test ran, not that a missing tool, mount or permission hid one.

The one allowed kind of skip names the feature in its reason as `this machine lacks ...`
(docs/tests.md lists every skip in the suite and what it needs)."""

import os

import pytest

MACHINE_LACKS = "this machine lacks "


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not (os.environ.get("CI") and report.skipped) or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if MACHINE_LACKS not in reason:
        report.outcome = "failed"
        report.longrepr = (
            f"skipped under CI, where only a skip for a feature the machine "
            f"lacks is allowed: {reason}"
        )
