"""Runs of the tiny pipeline as a user starts them, in a subprocess (tests/pipeline_worker.py):
each stdout line kept with the seconds since the start, stderr in a file, and the process at hand
to kill."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fault_points import ENVIRONMENT_VARIABLE as FAULT_POINT

WORKER = Path(__file__).with_name("pipeline_worker.py")


OFFLINE = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]


def can_cut_the_network() -> bool:
    """Whether this machine lets a process run in a network namespace of its own with its
    loopback up (root, or unprivileged user namespaces; util-linux's unshare, iproute2's ip)."""
    try:
        return subprocess.run(OFFLINE + ["true"], capture_output=True).returncode == 0
    except FileNotFoundError:  # no unshare
        return False


class Attempt:
    """One run of the worker: its stdout lines with the seconds since start, its stderr.

    `offline`: the run gets a network namespace of its own with only loopback up (`unshare
    --net`), so any connection beyond the machine fails, as on an air-gapped one.
    `stop_in`: a component the run stops inside, at its fault point (tests/fault_points.py),
    to be killed there."""

    def __init__(self, root, log_name: str, offline: bool = False, stop_in: str = ""):
        self.stderr_path = Path(root, f"{log_name}.stderr")
        self.started = time.perf_counter()
        command = [sys.executable, str(WORKER), str(root)]
        if offline:
            command = OFFLINE + command
        self.offline = offline
        env = {**os.environ, FAULT_POINT: stop_in} if stop_in else None
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, env=env, stderr=self.stderr_path.open("w"), text=True
        )
        self.lines = []

    def read_until(self, prefix: str) -> bool:
        """Reads lines up to one starting with `prefix`; False if the run ended first."""
        for line in self.process.stdout:
            self.lines.append((time.perf_counter() - self.started, line.rstrip("\n")))
            if line.startswith(prefix):
                return True
        return False

    def finish(self, timeout: int = 900) -> int:
        self.read_until("\0")  # to the end
        return self.process.wait(timeout=timeout)

    def kill(self) -> bool:
        """kill -9; True when it hit a live process. The lines the run printed before it died
        are read too, so `unfinished` tells where the kill landed."""
        alive = self.process.poll() is None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=60)
        self.read_until("\0")
        return alive and self.process.returncode == -signal.SIGKILL

    def unfinished(self) -> list:
        """The components that printed their start line and not their end line: where a run
        that stopped was stopped (the console prints both, flushed, as TFX starts and ends
        each component)."""
        started = [line[: -len(" ...")] for _, line in self.lines if line.endswith(" ...")]
        return [component for component in started if not self.completed(component)]

    def completed(self, component: str) -> bool:
        return any(line.startswith(f"{component} done in") for _, line in self.lines)

    @property
    def error_lines(self) -> list:
        return [
            line for line in self.stderr_path.read_text().splitlines() if line.startswith("error:")
        ]


def run_to_end(root, log_name: str, offline: bool = False) -> Attempt:
    attempt = Attempt(root, log_name, offline)
    assert attempt.finish() == 0, attempt.stderr_path.read_text()[-3000:]
    assert any("Run report:" in line for _, line in attempt.lines)
    return attempt
