"""Dirty input through CelebAExampleGen: a corpus of good and bad files built here, every one of
them accounted for with its reason, the failure policy both ways, and the data root's boundary."""

import io
import os
import struct
import zlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from standalone import run_example_gen
from test_celeba_example_gen import feature, read_split

from components.celeba_example_gen.policy import IngestionPolicy
from components.celeba_example_gen.report import IngestionError, read_report
from data import celeba_files
from data.synthetic_celeba import draw_face, face_for
from pipeline import run_local
from pipeline_config import PipelineConfig
from trainer_module.preprocessing import decode_crop_resize

SPLITS = tuple(celeba_files.PARTITION_NAMES.values())
CORPUS_POLICY = IngestionPolicy.of(
    PipelineConfig(max_rejected_fraction=1.0, max_image_bytes=250_000)
)


def face(index, mode="RGB"):
    return draw_face(face_for(7, index)).convert(mode)


def encode(image, fmt="JPEG"):
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def png_claiming(width, height):
    """A small real PNG whose header claims width x height: what a decompression bomb shows."""
    data = bytearray(encode(Image.new("RGB", (8, 8)), "PNG"))
    ihdr = 8 + 8  # signature, then the IHDR chunk's length and type
    data[ihdr : ihdr + 8] = struct.pack(">II", width, height)
    data[ihdr + 13 : ihdr + 17] = struct.pack(">I", zlib.crc32(bytes(data[ihdr - 4 : ihdr + 13])))
    return bytes(data)


def png_with_corrupt_pixels():
    """A PNG with intact header and checksums whose compressed pixel data is garbage."""
    data = bytearray(encode(face(2), "PNG"))
    start = data.index(b"IDAT") + 4
    length = struct.unpack(">I", data[start - 8 : start - 4])[0]
    data[start : start + length] = np.random.default_rng(0).bytes(length)
    data[start + length : start + length + 4] = struct.pack(
        ">I", zlib.crc32(bytes(data[start - 4 : start + length]))
    )
    return bytes(data)


# name -> (partition id or None when not listed, expected outcome: a split name or a reason)
ACCEPTED = {
    "000001.jpg": (0, "train"),
    "000002.jpg": (0, "train"),
    "000003.jpg": (0, "train"),
    "000004.jpg": (0, "train"),
    "000005.jpg": (0, "train"),
    "000006.jpg": (1, "eval"),
    "000007.jpg": (1, "eval"),
    "000008.jpg": (2, "test"),
    "000009.jpg": (0, "train"),  # a PNG named .jpg: the bytes decide, PNG is allowed
    "000010.jpg": (0, "train"),  # grayscale JPEG, converted to RGB
    "000011.jpg": (2, "test"),  # CMYK JPEG, converted to RGB
    "000012.jpg": (1, "eval"),  # a symlink to a file inside the data root
}
REJECTED = {
    "000013.jpg": "zero_bytes",
    "000014.jpg": "truncated",
    "000015.jpg": "undecodable",
    "000016.jpg": "not_an_image",
    "000017.jpg": "format_not_allowed",
    "000018.png": "too_many_pixels",
    "000019.jpg": "too_many_pixels",
    "000020.jpg": "too_small",
    "000021.jpg": "listed_but_missing",
    "000022.jpg": "duplicate_row",
    "000023.jpg": "malformed_row",
    "000024.jpg": "unknown_partition_id",
    "unlisted.jpg": "present_but_not_listed",
    ".DS_Store": "hidden_or_system_file",
    "Thumbs.db": "hidden_or_system_file",
    "000025.jpg": "symlink_leaving_data_root",
    "000026.jpg": "file_too_large",
    "subdir": "not_a_regular_file",
}


def write_corpus(base):
    """The data root base/celeba, plus base/outside (a file a symlink points to)."""
    root, outside = base / "celeba", base / "outside"
    images = root / celeba_files.IMAGE_DIR
    for folder in (images, outside, root / "elsewhere"):
        folder.mkdir(parents=True)
    for i, name in enumerate(
        [
            "000001.jpg",
            "000002.jpg",
            "000003.jpg",
            "000004.jpg",
            "000005.jpg",
            "000006.jpg",
            "000007.jpg",
            "000008.jpg",
            "000022.jpg",
            "000023.jpg",
            "000024.jpg",
            "unlisted.jpg",
        ]
    ):
        (images / name).write_bytes(encode(face(i)))
    contents = {
        "000009.jpg": encode(face(20), "PNG"),
        "000010.jpg": encode(face(21, "L")),
        "000011.jpg": encode(face(22, "CMYK")),
        "000013.jpg": b"",
        "000014.jpg": encode(face(23))[:3000],
        "000015.jpg": png_with_corrupt_pixels(),
        "000016.jpg": b"name,smiling\n000016.jpg,1\n",
        "000017.jpg": encode(face(24), "BMP"),
        "000018.png": png_claiming(30_000, 30_000),  # over Pillow's own bomb limit too
        "000019.jpg": png_claiming(5_000, 4_000),  # over ours only
        "000020.jpg": encode(face(25).resize((40, 48))),
        "000026.jpg": np.random.default_rng(1).bytes(300_000),
        ".DS_Store": b"\x00\x00\x00\x01Bud1",
        "Thumbs.db": b"\xd0\xcf\x11\xe0",
    }
    for name, data in contents.items():
        (images / name).write_bytes(data)
    (root / "elsewhere" / "real.jpg").write_bytes(encode(face(26)))
    (images / "000012.jpg").symlink_to(os.path.join("..", "elsewhere", "real.jpg"))
    (outside / "face.jpg").write_bytes(encode(face(27)))
    (images / "000025.jpg").symlink_to(outside / "face.jpg")
    (images / "subdir").mkdir()

    listed = {name: split for name, (split, _) in ACCEPTED.items()}
    listed.update({f"0000{i}.jpg": 0 for i in range(13, 27)})
    del listed["000018.jpg"]
    listed["000018.png"] = 0
    listed["000024.jpg"] = 3
    values = " ".join(["1", "-1"] * 20)
    attribute_rows = [f"{name} {values}" for name in listed]
    attribute_rows.append(f"000022.jpg {values}")  # a second row for the same file
    attribute_rows[list(listed).index("000023.jpg")] = "000023.jpg " + " ".join(["1"] * 39)
    (root / celeba_files.ATTRIBUTE_FILE).write_text(
        "\n".join(
            [str(len(attribute_rows)), " ".join(celeba_files.CELEBA_ATTRIBUTES), *attribute_rows]
        )
    )
    (root / celeba_files.PARTITION_FILE).write_text(
        "".join(f"{name} {split}\n" for name, split in listed.items())
    )
    return root, outside


@pytest.fixture(scope="module")
def corpus_run(module_tmp):
    base = module_tmp("corpus")
    root, outside = write_corpus(base)
    examples = run_example_gen(root, base / "out", CORPUS_POLICY)
    return root, outside, examples, read_report(base / "out")


def test_every_input_is_accounted_for_with_exact_counts(corpus_run):
    _, _, _, report = corpus_run
    expected_reasons = {}
    for reason in REJECTED.values():
        expected_reasons[reason] = expected_reasons.get(reason, 0) + 1
    assert len(expected_reasons) >= 12
    assert report["rejected_per_reason"] == expected_reasons
    assert report["examples_per_split"] == {"train": 7, "eval": 3, "test": 2}
    assert report["files_seen"] == len(ACCEPTED) + len(REJECTED) == 30
    assert report["examples"] + report["rejected"] == report["files_seen"]
    assert {r["file"]: r["reason"] for r in report["rejected_files"]} == REJECTED
    assert all(r["detail"] for r in report["rejected_files"])


def test_accepted_files_land_in_their_split_and_decode_as_transform_does(corpus_run):
    _, _, examples, _ = corpus_run
    found = {}
    for split in SPLITS:
        for example in read_split(examples, split):
            found[feature(example, "filename")[0].decode()] = split
            assert feature(example, "channels") == [3]
            assert feature(example, "byte_size") == [len(feature(example, "image")[0])]
            image = decode_crop_resize(
                tf.constant(feature(example, "image")[0]), "center_square", 64
            )
            assert image.shape == (64, 64, 3)
    assert found == {name: split for name, (_, split) in ACCEPTED.items()}


def test_grayscale_and_cmyk_are_stored_as_rgb_with_pillows_colours(corpus_run):
    root, _, examples, report = corpus_run
    assert report["converted_to_rgb"] == [
        {"file": "000010.jpg", "from_mode": "L"},
        {"file": "000011.jpg", "from_mode": "CMYK"},
    ]
    stored = {
        feature(e, "filename")[0].decode(): feature(e, "image")[0]
        for split in SPLITS
        for e in read_split(examples, split)
    }
    for name in ("000010.jpg", "000011.jpg"):
        source = Image.open(root / celeba_files.IMAGE_DIR / name).convert("RGB")
        decoded = tf.io.decode_jpeg(stored[name], channels=3).numpy()
        assert decoded.shape == (218, 178, 3)
        assert np.abs(decoded.astype(int) - np.asarray(source, int)).mean() < 3


def test_a_symlink_out_of_the_root_is_refused_and_never_read(corpus_run):
    _, outside, examples, report = corpus_run
    outside_bytes = (outside / "face.jpg").read_bytes()
    assert all(
        feature(e, "image")[0] != outside_bytes
        for split in SPLITS
        for e in read_split(examples, split)
    )
    (refused,) = [r for r in report["rejected_files"] if r["file"] == "000025.jpg"]
    assert str(outside) in refused["detail"]


def test_an_image_folder_or_list_file_outside_the_root_stops_the_run(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.jpg").write_bytes(encode(face(1)))
    root = tmp_path / "root"
    root.mkdir()
    (root / celeba_files.IMAGE_DIR).symlink_to(outside)
    with pytest.raises(PermissionError, match="outside the data root"):
        run_example_gen(root, tmp_path / "out")
    (root / celeba_files.IMAGE_DIR).unlink()
    (root / celeba_files.IMAGE_DIR).mkdir()
    (root / celeba_files.IMAGE_DIR / "a.jpg").write_bytes(encode(face(1)))
    (outside / "list.txt").write_text("a.jpg 0\n")
    (root / celeba_files.PARTITION_FILE).symlink_to(outside / "list.txt")
    with pytest.raises(PermissionError, match="outside the data root"):
        run_example_gen(root, tmp_path / "out2")


@pytest.fixture(scope="module")
def one_bad_in_21(module_tmp):
    """A flat folder: 20 good faces and one empty file, 4.8% rejected."""
    root = module_tmp("one_bad")
    for i in range(20):
        (root / f"{i:06d}.jpg").write_bytes(encode(face(i)))
    (root / "broken.jpg").write_bytes(b"")
    return root


def test_rejections_over_the_threshold_stop_the_run_naming_counts_and_report(
    one_bad_in_21, tmp_path
):
    with pytest.raises(IngestionError) as error:
        run_example_gen(one_bad_in_21, tmp_path, IngestionPolicy.of(PipelineConfig()))
    message = str(error.value)
    assert "1 of 21 files rejected" in message and "1 zero_bytes" in message
    assert str(tmp_path / "ingestion_report.json") in message and "\n" not in message
    assert read_report(tmp_path)["rejected_files"][0]["file"] == "broken.jpg"


def test_rejections_under_the_threshold_continue_and_say_so(one_bad_in_21, tmp_path, caplog):
    policy = IngestionPolicy.of(PipelineConfig(max_rejected_fraction=0.05))
    examples = run_example_gen(one_bad_in_21, tmp_path, policy)
    assert sum(len(read_split(examples, split)) for split in SPLITS) == 20
    assert examples.get_int_custom_property("ingestion_rejected") == 1
    assert "1 set aside: 1 zero_bytes" in caplog.text and "broken.jpg" in caplog.text


def test_an_attribute_file_for_other_images_stops_the_run(one_bad_in_21, tmp_path):
    root = tmp_path / "root"
    images = root / celeba_files.IMAGE_DIR
    images.mkdir(parents=True)
    for name in ("000001.jpg", "000002.jpg"):
        (images / name).write_bytes((one_bad_in_21 / name).read_bytes())
    celeba_files.write_attribute_file(
        root / celeba_files.ATTRIBUTE_FILE, {"100001.jpg": [1] * 40, "100002.jpg": [-1] * 40}
    )
    with pytest.raises(IngestionError, match="list_attr_celeba.txt names none of the 2 files"):
        run_example_gen(root, tmp_path / "out")
    report = read_report(tmp_path / "out")
    assert report["rejected_per_reason"] == {"listed_but_missing": 2, "present_but_not_listed": 2}


@pytest.mark.slow
def test_the_pipeline_stops_at_ingestion_in_one_line(one_bad_in_21, tmp_path, capsys):
    assert run_local.main(["--data-root", str(one_bad_in_21), "--output-root", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    error = captured.err.strip().splitlines()[-1]
    assert error.startswith("error: pipeline failed: IngestionError: too many bad inputs")
    assert "1 of 21 files rejected" in error and error.endswith("ingestion_report.json")
    assert os.path.exists(error.rsplit("report: ", 1)[1])
