"""Turns a real CelebA download into the folder layout the pipeline reads, and checks it.

    python -m data.prepare_celeba --source DOWNLOADS --out DATA_ROOT
    python pipeline/run_local.py --data-root DATA_ROOT

DOWNLOADS is searched (subfolders too) for CelebA's official files: `img_align_celeba.zip` (or
its extracted `img_align_celeba/` folder), `list_attr_celeba.txt` and `list_eval_partition.txt`;
or it is a prepared TFDS `celeb_a` folder (`celeb_a-train.tfrecord-*` shards). Nothing is
downloaded. The result is checked against CelebA's 202,599 images and its partition sizes; every
missing piece is named, and the exit status is non-zero when anything does not match.

TFDS keeps no file names: its images are numbered in CelebA's scheme (train first, then
validation, then test, as CelebA numbers them) in TFDS's order, with their own attributes.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

import bootstrap  # noqa: E402
from data import celeba_files  # noqa: E402
from data.synthetic_celeba import CELEBA_SPLIT_SIZES, image_name  # noqa: E402

IMAGE_ZIP = "img_align_celeba.zip"
TFDS_SPLITS = ("train", "validation", "test")  # TFDS's names for CelebA's partitions 0, 1, 2
MAX_MEMBER_BYTES = 16 * 2**20  # an aligned CelebA JPEG is ~10 KB; refuse anything huge
WHERE = {
    IMAGE_ZIP: "Img/img_align_celeba.zip",
    celeba_files.ATTRIBUTE_FILE: "Anno/list_attr_celeba.txt",
    celeba_files.PARTITION_FILE: "Eval/list_eval_partition.txt",
}
"""Where each file sits in the official CelebA download folder."""


class PrepareError(Exception):
    """The source is incomplete or the result does not match CelebA; the message says what."""


def _find(source: Path, name: str) -> Path | None:
    return next(iter(sorted(source.rglob(name))), None)


def _find_images(source: Path) -> Path | None:
    """The zip, or an extracted img_align_celeba/ folder holding images."""
    found = _find(source, IMAGE_ZIP)
    if found:
        return found
    return next(
        (
            path
            for path in sorted(source.rglob(celeba_files.IMAGE_DIR))
            if path.is_dir() and any(path.glob("*.jpg"))
        ),
        None,
    )


def _safe_image_name(member: str) -> str | None:
    """The name of a .jpg member at the top or in img_align_celeba/; None for anything else
    (other folders, "..", __MACOSX, hidden files), so nothing lands outside the image folder."""
    *folders, name = member.replace("\\", "/").split("/")
    if folders not in ([], [celeba_files.IMAGE_DIR]):
        return None
    if not name.lower().endswith(".jpg") or name.startswith("."):
        return None
    return name


def extract_zip(zip_path: Path, image_dir: Path) -> int:
    """Writes each image member to image_dir by its base name; returns how many were skipped."""
    skipped = 0
    with zipfile.ZipFile(zip_path) as archive:
        for member in archive.infolist():
            name = None if member.is_dir() else _safe_image_name(member.filename)
            if name is None or member.file_size > MAX_MEMBER_BYTES:
                skipped += 0 if member.is_dir() else 1
                continue
            with archive.open(member) as src, open(image_dir / name, "wb") as dst:
                shutil.copyfileobj(src, dst)
    return skipped


def copy_folder(folder: Path, image_dir: Path) -> int:
    skipped = 0
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.is_symlink() and _safe_image_name(path.name):
            shutil.copyfile(path, image_dir / path.name)
        else:
            skipped += 1
    return skipped


def prepare_from_downloads(source: Path, out: Path) -> int:
    """The official files -> out; returns how many archive entries were not images."""
    found = {
        name: _find(source, name)
        for name in (celeba_files.ATTRIBUTE_FILE, celeba_files.PARTITION_FILE)
    }
    found[IMAGE_ZIP] = _find_images(source)
    missing = [
        f"{name} (in CelebA's download folder as {WHERE[name]})"
        for name, path in found.items()
        if path is None
    ]
    if missing:
        raise PrepareError(
            f"{source} lacks: " + "; ".join(missing) + ". Download them from "
            "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html (see docs/ingestion.md)."
        )
    image_dir = out / celeba_files.IMAGE_DIR
    image_dir.mkdir(parents=True, exist_ok=True)
    images = found[IMAGE_ZIP]
    skipped = extract_zip(images, image_dir) if images.is_file() else copy_folder(images, image_dir)
    for name in (celeba_files.ATTRIBUTE_FILE, celeba_files.PARTITION_FILE):
        shutil.copyfile(found[name], out / name)
    return skipped


def prepare_from_tfds(source: Path, out: Path) -> int:
    """A prepared TFDS celeb_a folder -> out, numbering images as CelebA does."""
    import tensorflow as tf

    shards = {split: sorted(source.rglob(f"celeb_a-{split}.tfrecord-*")) for split in TFDS_SPLITS}
    missing = [split for split, paths in shards.items() if not paths]
    if missing:
        raise PrepareError(f"{source} has no TFDS celeb_a shards for: {', '.join(missing)}")
    image_dir = out / celeba_files.IMAGE_DIR
    image_dir.mkdir(parents=True, exist_ok=True)
    attributes: dict[str, list[int]] = {}
    partitions: dict[str, int] = {}
    for partition, split in enumerate(TFDS_SPLITS):
        for record in tf.data.TFRecordDataset([str(p) for p in shards[split]]).as_numpy_iterator():
            example = tf.train.Example.FromString(record).features.feature
            name = image_name(len(partitions) + 1)
            (image_dir / name).write_bytes(example["image"].bytes_list.value[0])
            attributes[name] = [
                1 if example[f"attributes/{a}"].int64_list.value[0] else -1
                for a in celeba_files.CELEBA_ATTRIBUTES
            ]
            partitions[name] = partition
    celeba_files.write_attribute_file(out / celeba_files.ATTRIBUTE_FILE, attributes)
    celeba_files.write_partition_file(out / celeba_files.PARTITION_FILE, partitions)
    return 0


def check_layout(out: Path, expected_splits: Sequence[int]) -> list[str]:
    """What does not match CelebA (or `expected_splits`), each problem in one line."""
    images = {path.name for path in (out / celeba_files.IMAGE_DIR).iterdir()}
    problems = []
    if len(images) != sum(expected_splits):
        problems.append(f"{len(images):,} images, CelebA has {sum(expected_splits):,}")
    partition = celeba_files.parse_partition_lines(
        (out / celeba_files.PARTITION_FILE).read_text(errors="replace").splitlines(),
        celeba_files.PARTITION_FILE,
    )
    _, attributes = celeba_files.parse_attribute_lines(
        (out / celeba_files.ATTRIBUTE_FILE).read_text(errors="replace").splitlines(),
        celeba_files.ATTRIBUTE_FILE,
    )
    for split_id, split in celeba_files.PARTITION_NAMES.items():
        count = sum(1 for value in partition.rows.values() if value == split_id)
        if count != expected_splits[split_id]:
            problems.append(
                f"{split}: {count:,} images in {celeba_files.PARTITION_FILE}, "
                f"CelebA has {expected_splits[split_id]:,}"
            )
    for listed in (partition, attributes):
        problems.extend(str(problem) for problem in listed.problems[:5])
        missing = sorted(set(listed.rows) - images)
        if missing:
            problems.append(f"{len(missing):,} images listed but missing, e.g. {missing[:3]}")
    unlisted = sorted(images - set(partition.rows))
    if unlisted:
        problems.append(
            f"{len(unlisted):,} images not in {celeba_files.PARTITION_FILE}, e.g. {unlisted[:3]}"
        )
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    bootstrap.start()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--source",
        required=True,
        type=Path,
        help="folder with the official CelebA files, or a TFDS celeb_a folder",
    )
    parser.add_argument("--out", required=True, type=Path, help="the data root to write")
    parser.add_argument(
        "--expected-splits",
        type=int,
        nargs=3,
        default=CELEBA_SPLIT_SIZES,
        metavar=("TRAIN", "EVAL", "TEST"),
        help="default: CelebA's",
    )
    args = parser.parse_args(argv)
    try:
        if not args.source.is_dir():
            raise PrepareError(f"{args.source} is not a folder")
        tfds = next(args.source.rglob("celeb_a-train.tfrecord-*"), None) is not None
        skipped = (prepare_from_tfds if tfds else prepare_from_downloads)(args.source, args.out)
    except PrepareError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if skipped:
        print(f"{skipped:,} entries were not images and were left out")
    problems = check_layout(args.out, args.expected_splits)
    if problems:
        print(f"error: {args.out} does not match CelebA:", file=sys.stderr)
        print("\n".join(f"  {problem}" for problem in problems), file=sys.stderr)
        return 1
    train, evaluation, test = args.expected_splits
    print(
        f"Prepared {args.out}: {sum(args.expected_splits):,} images "
        f"(train {train:,}, eval {evaluation:,}, test {test:,}), as CelebA.\n"
        f"Run: python pipeline/run_local.py --data-root {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
