"""CelebA's metadata files: names, formats, reading and writing.

The pipeline reads a real CelebA download and a synthetic stand-in the same
way, so both go through these functions. The readers are strict and name the
file and line of any problem, because a silently skipped row would shift
labels or splits without anyone noticing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePath
from typing import Iterator, Mapping, Sequence

CELEBA_ATTRIBUTES: tuple[str, ...] = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes",
    "Bald", "Bangs", "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair",
    "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin",
    "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones",
    "Male", "Mouth_Slightly_Open", "Mustache", "Narrow_Eyes", "No_Beard",
    "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline",
    "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair",
    "Wearing_Earrings", "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necklace",
    "Wearing_Necktie", "Young",
)
"""The 40 attribute names in the order of CelebA's attribute file columns."""

IMAGE_DIR = "img_align_celeba"
ATTRIBUTE_FILE = "list_attr_celeba.txt"
PARTITION_FILE = "list_eval_partition.txt"
PARTITION_NAMES = {0: "train", 1: "eval", 2: "test"}
"""CelebA's partition ids and the split names the pipeline uses for them."""


def _data_lines(path: str | Path) -> Iterator[tuple[int, list[str]]]:
    """Yield (1-based line number, whitespace-split fields) of non-blank lines.

    Splitting on any whitespace matters: real CelebA pads values with
    several spaces so that the columns line up.
    """
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            fields = line.split()
            if fields:
                yield number, fields


def _error(path: str | Path, line: int, message: str) -> ValueError:
    return ValueError(f"{path}, line {line}: {message}")


def write_attribute_file(
    path: str | Path,
    rows: Mapping[str, Sequence[int]],
    names: Sequence[str] = CELEBA_ATTRIBUTES,
) -> None:
    """Write `rows` (file name -> one +1/-1 per name) in CelebA's layout.

    Values are right-aligned in 2-character columns like the real file, so
    tools written against CelebA read it unchanged.
    """
    lines = [str(len(rows)), " ".join(names)]
    for filename, values in rows.items():
        if len(values) != len(names) or any(v not in (1, -1) for v in values):
            raise ValueError(
                f"{filename}: need {len(names)} values of 1 or -1, got {list(values)}")
        lines.append(filename + " " + " ".join(f"{v:2d}" for v in values))
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_attribute_file(path: str | Path) -> tuple[list[str], dict[str, list[int]]]:
    """Read a CelebA attribute file into (names, {file name: values}).

    The count on the first line is checked against the rows, which catches a
    truncated download.
    """
    lines = _data_lines(path)
    number, fields = next(lines, (1, []))
    if len(fields) != 1 or not fields[0].isdigit():
        raise _error(path, number, f"expected the row count, got {' '.join(fields)!r}")
    expected_count, count_line = int(fields[0]), number

    number, names = next(lines, (2, []))
    if not names:
        raise _error(path, number, "missing the attribute names line")
    if len(set(names)) != len(names):
        raise _error(path, number, "duplicate attribute names")

    rows: dict[str, list[int]] = {}
    for number, fields in lines:
        filename, raw = fields[0], fields[1:]
        if len(raw) != len(names):
            raise _error(path, number, f"expected {len(names)} values, got {len(raw)}")
        if any(v not in ("1", "-1") for v in raw):
            raise _error(path, number, "values must be 1 or -1")
        if filename in rows:
            raise _error(path, number, f"duplicate file name {filename}")
        rows[filename] = [int(v) for v in raw]

    if len(rows) != expected_count:
        raise _error(path, count_line,
                     f"count says {expected_count} rows but the file has {len(rows)}")
    return names, rows


def write_partition_file(path: str | Path, partitions: Mapping[str, int]) -> None:
    """Write `partitions` (file name -> 0/1/2) as CelebA's partition file."""
    bad = {f: p for f, p in partitions.items() if p not in PARTITION_NAMES}
    if bad:
        raise ValueError(f"partition ids must be 0, 1 or 2, got {bad}")
    text = "".join(f"{f} {p}\n" for f, p in partitions.items())
    Path(path).write_text(text, encoding="utf-8")


def read_partition_file(path: str | Path) -> dict[str, int]:
    """Read CelebA's partition file into {file name: 0 (train), 1 (eval) or 2 (test)}."""
    partitions: dict[str, int] = {}
    for number, fields in _data_lines(path):
        if len(fields) != 2:
            raise _error(path, number, f"expected 'file id', got {' '.join(fields)!r}")
        filename, raw = fields
        if raw not in ("0", "1", "2"):
            raise _error(path, number, f"partition id must be 0, 1 or 2, got {raw!r}")
        if filename in partitions:
            raise _error(path, number, f"duplicate file name {filename}")
        partitions[filename] = int(raw)
    return partitions


def hash_split(filename: str | PurePath, ratios: Sequence[float] = (0.8, 0.1, 0.1)) -> int:
    """Split id (index into `ratios`) for an image folder without a partition file.

    The id comes from a SHA-256 of the base name, not Python's hash(), so it
    is the same in every process and run, and an image keeps its split when
    the folder moves or other images are added.
    """
    if not ratios or any(r < 0 for r in ratios) or sum(ratios) <= 0:
        raise ValueError(f"ratios must be non-negative with a positive sum, got {ratios}")
    digest = hashlib.sha256(PurePath(filename).name.encode("utf-8")).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64 * sum(ratios)
    cumulative = 0.0
    for split, ratio in enumerate(ratios):
        cumulative += ratio
        if position < cumulative:
            return split
    return max(i for i, r in enumerate(ratios) if r > 0)  # float rounding at the top end
