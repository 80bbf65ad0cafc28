"""Reading, writing and fingerprinting files on any tf.io.gfile filesystem (local, gs://, ...).

Fingerprints are content hashes: two runs that see the same bytes get the same key, whatever
the artifact URIs, so cached statistics survive a re-run of Transform or a copied model.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable

import numpy as np
import tensorflow as tf

CHUNK_BYTES = 8 << 20


def write_bytes(path: str, data: bytes) -> None:
    """Writes through a temporary name and a rename, so a reader never sees half a file."""
    parent = os.path.dirname(path)
    if parent:
        tf.io.gfile.makedirs(parent)
    temporary = f"{path}.tmp-{uuid.uuid4().hex}"
    with tf.io.gfile.GFile(temporary, "wb") as f:
        f.write(data)
    tf.io.gfile.rename(temporary, path, overwrite=True)


def read_bytes(path: str) -> bytes:
    with tf.io.gfile.GFile(path, "rb") as f:
        return f.read()


def files_under(directory: str) -> list[str]:
    """Every file below `directory`, sorted, so the order (and the hash) is stable."""
    found = []
    for parent, _, names in tf.io.gfile.walk(directory):
        found.extend(os.path.join(parent, name) for name in names)
    return sorted(found)


def fingerprint_files(paths: Iterable[str], root: str = "") -> str:
    """sha256 over each file's name (relative to `root`), size and bytes."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(os.path.relpath(path, root).encode() if root else path.encode())
        digest.update(str(tf.io.gfile.stat(path).length).encode())
        with tf.io.gfile.GFile(path, "rb") as f:
            while chunk := f.read(CHUNK_BYTES):
                digest.update(chunk)
    return digest.hexdigest()


def fingerprint_directory(directory: str) -> str:
    return fingerprint_files(files_under(directory), root=directory)


def fingerprint_arrays(*arrays) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(str(array.dtype).encode() + str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()
