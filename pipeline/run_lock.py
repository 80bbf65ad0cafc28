"""One run at a time per pipeline and output root: a second `make run` on the same outputs
refuses with one line instead of interleaving its executions with the first's in one metadata
store and one pipeline root.

The lock is an flock on <metadata folder>/run.lock, which the kernel releases when its holder
exits in any way, kill -9 included: a dead run never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator

LOCK_FILE = "run.lock"


class RunInProgress(RuntimeError):
    """Another process is running the same pipeline on the same output root."""


@contextlib.contextmanager
def exclusive_run(metadata_path: str) -> Iterator[str]:
    """Holds the run lock of the pipeline whose metadata store is `metadata_path`, or raises
    RunInProgress naming the holder's process id."""
    path = os.path.join(os.path.dirname(metadata_path), LOCK_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            raise RunInProgress(
                f"another run (process {holder}) is using {path}; wait for it to "
                "end, or give this one another --output-root"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        try:
            yield path
        finally:
            lock.truncate(0)
            fcntl.flock(lock, fcntl.LOCK_UN)
