"""Recognises a full disk in whatever a failed run raised, and names the path being written.

The error reaches the runner in several shapes: Python's OSError(ENOSPC) with its filename,
TensorFlow's ResourceExhaustedError ("<path>; No space left on device"), SQLite's "database or
disk is full" from the metadata store, or Beam's re-raised text of any of these. Only the
text and the errno are reliable across them, so both are looked at along the whole chain.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterator

_NO_SPACE = re.compile(r"No space left on device|database or disk is full")
# A path written just before the message ("<path>; No space ...", "[Errno 28] ...: '<path>'").
_PATH_BEFORE = re.compile(r"(/[^\s'\";,\]]+)[^/\n]{0,40}No space left on device")
_PATH_AFTER = re.compile(r"No space left on device:? '?(/[^\s'\"]+)")


def full_disk_path(err: BaseException, metadata_path: str = "") -> str | None:
    """The path whose write found the disk full, `metadata_path` for the metadata store, '' when
    the disk was full but no path is named; None when `err` is not a full disk.

    The original error is looked at first: a full disk usually makes the metadata store fail
    too while the run records the failure, and that later error is the outermost."""
    chain = list(_chain(err))[::-1]
    for link in chain:
        if isinstance(link, OSError) and link.errno == errno.ENOSPC:
            return link.filename or _path_in(str(link)) or ""
    for link in chain:
        text = str(link)
        if _NO_SPACE.search(text):
            if "database or disk is full" in text:
                return metadata_path
            return _path_in(text) or ""
    return None


def _path_in(text: str) -> str | None:
    found = _PATH_BEFORE.search(text) or _PATH_AFTER.search(text)
    return found.group(1) if found else None


def _chain(err: BaseException) -> Iterator[BaseException]:
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        yield err
        err = err.__cause__ or err.__context__
