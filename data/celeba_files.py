"""CelebA's metadata files: names, formats, reading and writing.

The pipeline reads a real CelebA download and a synthetic stand-in the same
way, so both go through these functions. Every problem names the file and
line, because a silently skipped row would shift labels or splits without
anyone noticing: the `read_*` functions raise on the first one, the
`parse_*_lines` functions keep them all so that ingestion can set the files
they name aside and report them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath

CELEBA_ATTRIBUTES: tuple[str, ...] = (
    "5_o_Clock_Shadow",
    "Arched_Eyebrows",
    "Attractive",
    "Bags_Under_Eyes",
    "Bald",
    "Bangs",
    "Big_Lips",
    "Big_Nose",
    "Black_Hair",
    "Blond_Hair",
    "Blurry",
    "Brown_Hair",
    "Bushy_Eyebrows",
    "Chubby",
    "Double_Chin",
    "Eyeglasses",
    "Goatee",
    "Gray_Hair",
    "Heavy_Makeup",
    "High_Cheekbones",
    "Male",
    "Mouth_Slightly_Open",
    "Mustache",
    "Narrow_Eyes",
    "No_Beard",
    "Oval_Face",
    "Pale_Skin",
    "Pointy_Nose",
    "Receding_Hairline",
    "Rosy_Cheeks",
    "Sideburns",
    "Smiling",
    "Straight_Hair",
    "Wavy_Hair",
    "Wearing_Earrings",
    "Wearing_Hat",
    "Wearing_Lipstick",
    "Wearing_Necklace",
    "Wearing_Necktie",
    "Young",
)
"""The 40 attribute names in the order of CelebA's attribute file columns."""

IMAGE_DIR = "img_align_celeba"
ATTRIBUTE_FILE = "list_attr_celeba.txt"
PARTITION_FILE = "list_eval_partition.txt"
PARTITION_NAMES = {0: "train", 1: "eval", 2: "test"}
"""CelebA's partition ids and the split names the pipeline uses for them."""


MALFORMED_ROW = "malformed_row"
DUPLICATE_ROW = "duplicate_row"
UNKNOWN_PARTITION = "unknown_partition_id"
"""Kinds of RowProblem: why a data line gives no usable value for its file name."""


@dataclass(frozen=True)
class RowProblem:
    """One unusable data line, kept so that ingestion can account for the file it names.

    `filename` is None for a problem of the whole file (a row count that does not match).
    """

    source: str
    line: int
    filename: str | None
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}, line {self.line}: {self.message}"


@dataclass
class ListRows:
    """A list file read leniently: the usable rows, and every problem line, in file order."""

    rows: dict
    problems: list[RowProblem] = field(default_factory=list)

    def strict(self) -> dict:
        """The rows, or the first problem raised as a ValueError naming file and line."""
        if self.problems:
            raise ValueError(str(self.problems[0]))
        return self.rows


def _data_lines(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """Yield (1-based line number, whitespace-split fields) of non-blank lines.

    Splitting on any whitespace matters: real CelebA pads values with
    several spaces so that the columns line up.
    """
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if fields:
            yield number, fields


def _read_lines(path: str | Path) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return f.readlines()


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
            raise ValueError(f"{filename}: need {len(names)} values of 1 or -1, got {list(values)}")
        lines.append(filename + " " + " ".join(f"{v:2d}" for v in values))
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def parse_attribute_lines(lines: Iterable[str], source: str) -> tuple[list[str], ListRows]:
    """Parse a CelebA attribute file into (names, rows of {file name: values}).

    A broken header (row count, names) raises: the file then says nothing
    usable. A bad data line becomes a RowProblem and the first row of a
    duplicated name is kept; the count on the first line is checked against
    the rows, which catches a truncated download.
    """
    lines = _data_lines(lines)
    number, fields = next(lines, (1, []))
    if len(fields) != 1 or not fields[0].isdigit():
        raise _error(source, number, f"expected the row count, got {' '.join(fields)!r}")
    expected_count, count_line = int(fields[0]), number

    number, names = next(lines, (2, []))
    if not names:
        raise _error(source, number, "missing the attribute names line")
    if len(set(names)) != len(names):
        raise _error(source, number, "duplicate attribute names")

    result = ListRows({})
    data_rows = 0
    for number, fields in lines:
        data_rows += 1
        filename, raw = fields[0], fields[1:]
        problem = None
        if len(raw) != len(names):
            problem = (MALFORMED_ROW, f"expected {len(names)} values, got {len(raw)}")
        elif any(v not in ("1", "-1") for v in raw):
            problem = (MALFORMED_ROW, "values must be 1 or -1")
        elif filename in result.rows:
            problem = (DUPLICATE_ROW, f"duplicate file name {filename}")
        if problem:
            result.problems.append(RowProblem(source, number, filename, *problem))
        else:
            result.rows[filename] = [int(v) for v in raw]

    if data_rows != expected_count:
        result.problems.append(
            RowProblem(
                source,
                count_line,
                None,
                MALFORMED_ROW,
                f"count says {expected_count} rows but the file has {data_rows}",
            )
        )
    return names, result


def read_attribute_file(path: str | Path) -> tuple[list[str], dict[str, list[int]]]:
    """Read a CelebA attribute file into (names, {file name: values}); any problem raises."""
    names, rows = parse_attribute_lines(_read_lines(path), str(path))
    return names, rows.strict()


def write_partition_file(path: str | Path, partitions: Mapping[str, int]) -> None:
    """Write `partitions` (file name -> 0/1/2) as CelebA's partition file."""
    bad = {f: p for f, p in partitions.items() if p not in PARTITION_NAMES}
    if bad:
        raise ValueError(f"partition ids must be 0, 1 or 2, got {bad}")
    text = "".join(f"{f} {p}\n" for f, p in partitions.items())
    Path(path).write_text(text, encoding="utf-8")


def parse_partition_lines(lines: Iterable[str], source: str) -> ListRows:
    """Parse CelebA's partition file into rows of {file name: 0 (train), 1 (eval) or 2 (test)}.

    A bad line becomes a RowProblem: an integer id other than 0, 1 or 2 is an
    unknown partition, anything else malformed; a duplicated name keeps its
    first row.
    """
    result = ListRows({})
    for number, fields in _data_lines(lines):
        filename = fields[0]
        problem = None
        if len(fields) != 2:
            problem = (MALFORMED_ROW, f"expected 'file id', got {' '.join(fields)!r}")
        elif fields[1] not in ("0", "1", "2"):
            kind = UNKNOWN_PARTITION if fields[1].lstrip("-").isdigit() else MALFORMED_ROW
            problem = (kind, f"partition id must be 0, 1 or 2, got {fields[1]!r}")
        elif filename in result.rows:
            problem = (DUPLICATE_ROW, f"duplicate file name {filename}")
        if problem:
            result.problems.append(RowProblem(source, number, filename, *problem))
        else:
            result.rows[filename] = int(fields[1])
    return result


def read_partition_file(path: str | Path) -> dict[str, int]:
    """Read CelebA's partition file into {file name: 0, 1 or 2}; any problem raises."""
    return parse_partition_lines(_read_lines(path), str(path)).strict()


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
