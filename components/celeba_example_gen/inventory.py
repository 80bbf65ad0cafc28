"""The folder and its list files, before any image is opened: what to read, in which split,
with which attributes, and what is set aside already (with the reason).

Only names found by listing the image folder are ever opened, so a name in a list file cannot
lead anywhere; on a local disk, symlinks are resolved and must stay inside the data root, as must
the image folder and the list files. Object stores (gs://, s3://) have no symlinks.
"""

from __future__ import annotations

import dataclasses
import os

from tfx.dsl.io import fileio

from components.celeba_example_gen import reasons
from data import celeba_files

SYSTEM_FILES = frozenset(
    {
        "Thumbs.db",
        "ehthumbs.db",
        "desktop.ini",
        "Desktop.ini",
        "__MACOSX",
        "$RECYCLE.BIN",
        "System Volume Information",
    }
)
"""Files operating systems and archivers leave in folders; names starting with "." are too."""

LIST_FILES = (celeba_files.ATTRIBUTE_FILE, celeba_files.PARTITION_FILE)
HASH_SPLIT = "hash of the file name"


@dataclasses.dataclass
class ListFile:
    """One list file as found: its usable rows, problem lines, or why it could not be read."""

    name: str
    rows: dict[str, object]
    problems: list[celeba_files.RowProblem]
    error: str | None = None  # set when the file is unreadable as a whole

    def __post_init__(self):
        self.first_problem: dict[str, celeba_files.RowProblem] = {}
        for problem in self.problems:
            if problem.filename is not None:
                self.first_problem.setdefault(problem.filename, problem)

    def names(self) -> set:
        return set(self.rows) | set(self.first_problem)


@dataclasses.dataclass
class Inventory:
    image_dir: str
    split_names: list[str]
    to_read: list[tuple[str, str, list[int] | None]]  # (file name, split, attribute values)
    rejected: list[dict[str, str]]  # {"file", "reason", "detail"}
    attribute_names: list[str] | None
    split_source: str  # the partition file's name, or HASH_SPLIT
    lists: list[ListFile]
    files_seen: int
    mismatches: list[str]  # list files that match none of the images, and why


class _Root:
    """The resolved data root, and whether a path stays inside it."""

    def __init__(self, data_root: str):
        self.local = "://" not in data_root
        self.real = os.path.realpath(data_root) if self.local else data_root

    def contains(self, path: str) -> bool:
        if not self.local:
            return True
        return os.path.commonpath([self.real, os.path.realpath(path)]) == self.real

    def require_inside(self, path: str) -> None:
        if not self.contains(path):
            raise PermissionError(
                f"{path} leads outside the data root {self.real} "
                f"(to {os.path.realpath(path)}); refusing to read it"
            )


def take_inventory(
    data_root: str, pattern: str, hash_buckets: dict[str, int] | None = None
) -> Inventory:
    """Lists the image folder (the folder of `pattern` under `data_root`) and joins the lists.

    Splits come from the partition file, which must then exist, or, with `hash_buckets`
    ({split name: weight}), from a hash of the file name; the partition file is then not read.
    """
    root = _Root(data_root)
    image_dir = os.path.dirname(os.path.join(data_root, pattern))
    root.require_inside(image_dir)
    flat = os.path.normpath(image_dir) == os.path.normpath(data_root)
    entries = sorted(
        name for name in fileio.listdir(image_dir) if not (flat and name in LIST_FILES)
    )
    if not entries:
        raise ValueError(f"No files in {image_dir}")

    attribute_names, attributes = _read_list(root, data_root, celeba_files.ATTRIBUTE_FILE)
    partitions = None
    if hash_buckets is None:
        _, partitions = _read_list(root, data_root, celeba_files.PARTITION_FILE)
        if partitions is None:
            raise FileNotFoundError(
                f"{celeba_files.PARTITION_FILE} is not in {data_root}; the "
                f"component was built to split by it"
            )
    lists = [found for found in (attributes, partitions) if found is not None]
    present = set(entries)
    missing = sorted(set().union(*(found.names() for found in lists)) - present)

    split_names = list(hash_buckets or celeba_files.PARTITION_NAMES.values())
    inventory = Inventory(
        image_dir,
        split_names,
        [],
        [],
        attribute_names,
        partitions.name if partitions else f"{HASH_SPLIT} {hash_buckets}",
        lists,
        files_seen=len(entries) + len(missing),
        mismatches=_mismatches(lists, present, image_dir),
    )
    for name in entries:
        try:
            _check_entry(root, image_dir, name)
            _check_listed(name, lists)
        except reasons.Rejected as rejected:
            inventory.rejected.append(_record(name, rejected))
            continue
        split = (
            celeba_files.PARTITION_NAMES[partitions.rows[name]]
            if partitions
            else split_names[celeba_files.hash_split(name, list(hash_buckets.values()))]
        )
        inventory.to_read.append((name, split, attributes.rows[name] if attributes else None))
    for name in missing:
        rejected = _row_problem(name, lists) or reasons.Rejected(
            reasons.LISTED_BUT_MISSING, f"no such file in {image_dir}"
        )
        inventory.rejected.append(_record(name, rejected))
    return inventory


def _mismatches(lists: list[ListFile], present: set, image_dir: str) -> list[str]:
    """A list file that is unreadable or names none of the files is the wrong file."""
    found = []
    for listed in lists:
        if listed.error:
            found.append(f"{listed.name} is unreadable ({listed.error})")
        elif not listed.names() & present:
            found.append(f"{listed.name} names none of the {len(present)} files in {image_dir}")
    return found


def _record(name: str, rejected: reasons.Rejected) -> dict[str, str]:
    return {"file": name, "reason": rejected.reason, "detail": rejected.detail}


def _check_entry(root: _Root, image_dir: str, name: str) -> None:
    if name.startswith(".") or name.rstrip("/") in SYSTEM_FILES:
        raise reasons.Rejected(reasons.HIDDEN_OR_SYSTEM, "hidden, or left by the system")
    path = os.path.join(image_dir, name)
    if root.local and os.path.islink(path) and not root.contains(path):
        raise reasons.Rejected(
            reasons.SYMLINK_OUTSIDE_ROOT, f"points to {os.path.realpath(path)}, outside {root.real}"
        )
    if name.endswith("/") or (root.local and not os.path.isfile(path)):
        raise reasons.Rejected(reasons.NOT_A_FILE, "a folder, a broken link or a device")


def _row_problem(name: str, lists: list[ListFile]) -> reasons.Rejected | None:
    for listed in lists:
        problem = listed.first_problem.get(name)
        if problem:
            return reasons.Rejected(problem.kind, str(problem))
    return None


def _check_listed(name: str, lists: list[ListFile]) -> None:
    rejected = _row_problem(name, lists)
    if rejected:
        raise rejected
    for listed in lists:
        if name not in listed.rows:
            raise reasons.Rejected(reasons.NOT_LISTED, f"no row in {listed.name}")


def _read_list(root: _Root, data_root: str, name: str):
    """(attribute names or None, ListFile or None when the folder has no such file)."""
    path = os.path.join(data_root, name)
    if not fileio.exists(path):
        return None, None
    if fileio.isdir(path):
        raise ValueError(f"{path} is a folder, not CelebA's list file {name}")
    root.require_inside(path)
    with fileio.open(path, "rb") as f:
        lines = f.read().decode("utf-8", errors="replace").splitlines()
    try:
        if name == celeba_files.ATTRIBUTE_FILE:
            names, parsed = celeba_files.parse_attribute_lines(lines, name)
        else:
            names, parsed = None, celeba_files.parse_partition_lines(lines, name)
    except ValueError as err:  # a broken header: no row can be trusted
        return None, ListFile(name, {}, [], error=str(err))
    return names, ListFile(name, parsed.rows, parsed.problems)
