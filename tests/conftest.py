"""Shared test set-up: Keras 2 before TensorFlow, quiet TF logs, the repository on sys.path."""
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import legacy_keras  # noqa: E402, F401  (Keras 2 before TensorFlow loads)


@pytest.fixture
def small_disk(tmp_path):
    """A 1 GB filesystem of its own at tmp_path/disk (see small_disk.py): room for three
    checkpoints of the default DCGAN (about 210 MB each), two kept and one being written."""
    from small_disk import SmallDisk
    disk = SmallDisk(tmp_path / "disk", size_mb=1024)
    yield disk
    disk.unmount()
