"""A fresh clone of the repository without git's network or history: the files a clone would
hold once the working tree is committed (tracked, and untracked but not ignored), copied into a
folder of its own. Nothing generated comes along (.venv, outputs/, data/generated/), so a test run
there sees what a newcomer's first command sees."""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fresh_clone(destination: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (entry.decode() for entry in listed)):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is not in the clone
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination
