"""Tests for data/celeba_files.py: CelebA's metadata formats, read and written."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from data.celeba_files import (
    ATTRIBUTE_FILE,
    CELEBA_ATTRIBUTES,
    IMAGE_DIR,
    PARTITION_FILE,
    PARTITION_NAMES,
    hash_split,
    read_attribute_file,
    read_partition_file,
    write_attribute_file,
    write_partition_file,
)

REPO = Path(__file__).resolve().parents[1]

# The first data line of the real list_attr_celeba.txt, spacing included.
REAL_ROW = (
    "000001.jpg -1  1  1 -1 -1 -1 -1 -1 -1 -1 -1  1 -1 -1 -1 -1 -1 -1  1  1"
    " -1  1 -1 -1  1 -1 -1  1 -1 -1 -1  1  1 -1  1 -1  1 -1 -1  1"
)


def values(*plus_indices):
    return [1 if i in plus_indices else -1 for i in range(40)]


def write(tmp_path, text, name="file.txt"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_constants_match_celeba():
    expected = (
        "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips "
        "Big_Nose Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin "
        "Eyeglasses Goatee Gray_Hair Heavy_Makeup High_Cheekbones Male Mouth_Slightly_Open "
        "Mustache Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose Receding_Hairline "
        "Rosy_Cheeks Sideburns Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat "
        "Wearing_Lipstick Wearing_Necklace Wearing_Necktie Young"
    ).split()
    assert list(CELEBA_ATTRIBUTES) == expected
    assert len(set(CELEBA_ATTRIBUTES)) == 40
    assert IMAGE_DIR == "img_align_celeba"
    assert ATTRIBUTE_FILE == "list_attr_celeba.txt"
    assert PARTITION_FILE == "list_eval_partition.txt"
    assert PARTITION_NAMES == {0: "train", 1: "eval", 2: "test"}


def test_attribute_file_round_trip_and_layout(tmp_path):
    rows = {"000001.jpg": values(0, 39), "000002.jpg": values(), "000003.jpg": values(*range(40))}
    path = tmp_path / ATTRIBUTE_FILE
    write_attribute_file(path, rows)

    lines = path.read_text().splitlines()
    assert lines[0] == "3"
    assert lines[1].split() == list(CELEBA_ATTRIBUTES)
    assert lines[2] == "000001.jpg  1" + " -1" * 38 + "  1"
    assert len(lines) == 5

    names, read_rows = read_attribute_file(path)
    assert names == list(CELEBA_ATTRIBUTES)
    assert read_rows == rows
    assert list(read_rows) == list(rows)  # file order kept


def test_attribute_reader_accepts_real_celeba_spacing(tmp_path):
    header = " ".join(CELEBA_ATTRIBUTES) + " \n"  # the real header ends in a space
    path = write(tmp_path, "1\n" + header + REAL_ROW + "\n\n")
    names, rows = read_attribute_file(path)
    assert names == list(CELEBA_ATTRIBUTES)
    assert rows["000001.jpg"][:4] == [-1, 1, 1, -1]
    assert rows["000001.jpg"][CELEBA_ATTRIBUTES.index("Young")] == 1
    assert sum(v == 1 for v in rows["000001.jpg"]) == 13


@pytest.mark.parametrize(
    "body, line, problem",
    [
        ("2\n{names}\n000001.jpg" + " 1" * 39 + "\n", 3, "expected 40 values, got 39"),
        ("2\n{names}\n000001.jpg" + " 1" * 41 + "\n", 3, "expected 40 values, got 41"),
        ("2\n{names}\n000001.jpg" + " 1" * 40 + "\n000002.jpg 0" + " 1" * 39 + "\n", 4, "1 or -1"),
        (
            "2\n{names}\n000001.jpg" + " 1" * 40 + "\n000001.jpg" + " -1" * 40 + "\n",
            4,
            "duplicate file name 000001.jpg",
        ),
        (
            "3\n{names}\n000001.jpg" + " 1" * 40 + "\n000002.jpg" + " 1" * 40 + "\n",
            1,
            "count says 3 rows but the file has 2",
        ),
        ("two\n{names}\n", 1, "row count"),
        ("", 1, "row count"),
        ("0\n", 2, "names"),
    ],
)
def test_attribute_reader_names_file_and_line_of_problems(tmp_path, body, line, problem):
    path = write(tmp_path, body.format(names=" ".join(CELEBA_ATTRIBUTES)))
    with pytest.raises(ValueError, match=rf"line {line}:.*{problem}") as error:
        read_attribute_file(path)
    assert str(path) in str(error.value)


def test_attribute_writer_rejects_bad_values(tmp_path):
    with pytest.raises(ValueError, match="000001.jpg"):
        write_attribute_file(tmp_path / "a.txt", {"000001.jpg": [0] * 40})
    with pytest.raises(ValueError, match="000001.jpg"):
        write_attribute_file(tmp_path / "a.txt", {"000001.jpg": [1] * 39})


def test_partition_file_round_trip(tmp_path):
    partitions = {"000001.jpg": 0, "000002.jpg": 0, "000003.jpg": 1, "000004.jpg": 2}
    path = tmp_path / PARTITION_FILE
    write_partition_file(path, partitions)
    assert path.read_text().splitlines() == [
        "000001.jpg 0",
        "000002.jpg 0",
        "000003.jpg 1",
        "000004.jpg 2",
    ]
    assert read_partition_file(path) == partitions


def test_partition_reader_splits_on_any_whitespace(tmp_path):
    path = write(tmp_path, "000001.jpg   0\r\n000002.jpg\t2  \n\n")
    assert read_partition_file(path) == {"000001.jpg": 0, "000002.jpg": 2}


@pytest.mark.parametrize(
    "body, line, problem",
    [
        ("000001.jpg 0\n000002.jpg\n", 2, "expected 'file id'"),
        ("000001.jpg 0\n000002.jpg 1 extra\n", 2, "expected 'file id'"),
        ("000001.jpg 0\n\n000002.jpg 3\n", 3, "must be 0, 1 or 2, got '3'"),
        ("000001.jpg x\n", 1, "must be 0, 1 or 2"),
        ("000001.jpg -1\n", 1, "must be 0, 1 or 2"),
        ("000001.jpg 0\n000001.jpg 1\n", 2, "duplicate file name 000001.jpg"),
    ],
)
def test_partition_reader_names_file_and_line_of_problems(tmp_path, body, line, problem):
    path = write(tmp_path, body)
    with pytest.raises(ValueError, match=rf"line {line}:.*{problem}") as error:
        read_partition_file(path)
    assert str(path) in str(error.value)


def test_partition_writer_rejects_unknown_ids(tmp_path):
    with pytest.raises(ValueError, match="000002.jpg"):
        write_partition_file(tmp_path / "p.txt", {"000001.jpg": 0, "000002.jpg": 3})


def test_hash_split_follows_ratios():
    names = [f"{i:06d}.jpg" for i in range(1, 20001)]
    splits = [hash_split(name, (0.8, 0.1, 0.1)) for name in names]
    for split, ratio in enumerate((0.8, 0.1, 0.1)):
        assert abs(splits.count(split) / len(names) - ratio) < 0.015
    assert {hash_split(name, (3, 0, 1)) for name in names[:2000]} == {0, 2}
    assert {hash_split(name, (1,)) for name in names[:100]} == {0}


def test_hash_split_uses_only_the_base_name():
    for name in ("000001.jpg", "abc.png", "x"):
        assert (
            hash_split(name) == hash_split(f"/some/folder/{name}") == hash_split(Path("d") / name)
        )


def test_hash_split_is_the_same_in_every_process():
    """Python's hash() of a str changes per process; the split must not."""
    script = (
        "from data.celeba_files import hash_split;"
        "print([hash_split(f'{i:06d}.jpg') for i in range(200)])"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=REPO,
            check=True,
            text=True,
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1
    assert outputs.pop().strip() == str([hash_split(f"{i:06d}.jpg") for i in range(200)])


@pytest.mark.parametrize("ratios", [(), (0.5, -0.1, 0.6), (0, 0, 0)])
def test_hash_split_rejects_bad_ratios(ratios):
    with pytest.raises(ValueError):
        hash_split("000001.jpg", ratios)
