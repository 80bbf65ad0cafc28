"""A small filesystem of its own (tmpfs) that a test can fill to the last byte, for full-disk
faults: real ENOSPC from the kernel, raised wherever the code under test writes. Mounting needs
root (CAP_SYS_ADMIN). Where the machine refuses, the tests that need it are skipped, saying why,
except under CI (the environment variable CI set, as `.ci/run` sets it): there a refused mount
fails them, so that a fault cell cannot pass without its fault.
"""

from __future__ import annotations

import errno
import os
import subprocess

import pytest

FILLER = ".filler"


class SmallDisk:
    def __init__(self, path, size_mb: int):
        self.path = str(path)
        os.makedirs(self.path, exist_ok=True)
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", self.path],
            capture_output=True,
            text=True,
        )
        if mounted.returncode != 0:
            why = (
                f"cannot mount a small filesystem here ({mounted.stderr.strip()}); "
                "full-disk faults need root"
            )
            if os.environ.get("CI"):
                pytest.fail(f"{why}; under CI a full-disk test must not be skipped")
            pytest.skip(why)

    @property
    def free_bytes(self) -> int:
        stat = os.statvfs(self.path)
        return stat.f_bavail * stat.f_frsize

    def fill(self, leave_mb: float = 0) -> None:
        """Takes all free space but `leave_mb` (0: every last byte, down to ENOSPC). A run
        writing at the same time can take some first: then a little less is taken."""
        keep = int(leave_mb * (1 << 20))
        with open(os.path.join(self.path, FILLER), "ab", buffering=0) as f:
            size = self.free_bytes - keep - (1 << 20)
            while size > 0:
                try:
                    os.posix_fallocate(f.fileno(), f.tell(), size)
                    break
                except OSError as error:
                    assert error.errno == errno.ENOSPC, error
                    size -= 4 << 20
            if keep == 0:
                try:
                    while True:
                        f.write(b"\0" * 4096)
                except OSError as error:
                    assert error.errno == errno.ENOSPC, error

    def free(self) -> None:
        """Gives the filled space back, as a user deleting files would."""
        os.remove(os.path.join(self.path, FILLER))

    def unmount(self) -> None:
        subprocess.run(["umount", "--lazy", self.path], check=True)
