"""data/prepare_celeba.py on a small CelebA download and a small TFDS folder built
here."""

import io
import zipfile

import tensorflow as tf

from data import celeba_files
from data.prepare_celeba import main
from data.synthetic_celeba import draw_face, face_for

NAMES = [f"{i:06d}.jpg" for i in range(1, 7)]
SPLITS = {name: split for name, split in zip(NAMES, (0, 0, 0, 0, 1, 2))}


def jpeg(index):
    buffer = io.BytesIO()
    draw_face(face_for(4, index)).save(buffer, format="JPEG")
    return buffer.getvalue()


def official_download(folder, with_partition=True):
    """CelebA's download folder: Img/ (the zip), Anno/, Eval/."""
    for sub in ("Img", "Anno", "Eval"):
        (folder / sub).mkdir(parents=True)
    with zipfile.ZipFile(folder / "Img" / "img_align_celeba.zip", "w") as archive:
        archive.writestr("img_align_celeba/", b"")
        for i, name in enumerate(NAMES):
            archive.writestr(f"img_align_celeba/{name}", jpeg(i))
        archive.writestr("__MACOSX/img_align_celeba/._000001.jpg", b"\x00\x05\x16\x07")
        archive.writestr("../escape.jpg", jpeg(9))
        archive.writestr("img_align_celeba/readme.txt", b"hello")
    celeba_files.write_attribute_file(
        folder / "Anno" / celeba_files.ATTRIBUTE_FILE, {name: [1, -1] * 20 for name in NAMES}
    )
    if with_partition:
        celeba_files.write_partition_file(folder / "Eval" / celeba_files.PARTITION_FILE, SPLITS)
    return folder


def test_the_official_zip_becomes_the_layout_and_is_checked(tmp_path, capsys):
    source = official_download(tmp_path / "downloads")
    out = tmp_path / "celeba"
    assert (
        main(["--source", str(source), "--out", str(out), "--expected-splits", "4", "1", "1"]) == 0
    )
    assert sorted(p.name for p in (out / celeba_files.IMAGE_DIR).iterdir()) == NAMES
    assert celeba_files.read_partition_file(out / celeba_files.PARTITION_FILE) == SPLITS
    assert not (tmp_path / "escape.jpg").exists() and not (out / "escape.jpg").exists()
    printed = capsys.readouterr().out
    assert (
        "3 entries were not images" in printed and "6 images (train 4, eval 1, test 1)" in printed
    )


def test_counts_that_differ_from_celeba_are_named(tmp_path, capsys):
    source = official_download(tmp_path / "downloads")
    assert main(["--source", str(source), "--out", str(tmp_path / "celeba")]) == 1
    err = capsys.readouterr().err
    assert "6 images, CelebA has 202,599" in err
    assert "train: 4 images in list_eval_partition.txt, CelebA has 162,770" in err


def test_a_missing_file_is_named_with_where_it_comes_from(tmp_path, capsys):
    source = official_download(tmp_path / "downloads", with_partition=False)
    assert main(["--source", str(source), "--out", str(tmp_path / "celeba")]) == 1
    err = capsys.readouterr().err
    assert (
        "lacks: list_eval_partition.txt (in CelebA's download folder as "
        "Eval/list_eval_partition.txt)" in err
    )


def test_a_tfds_folder_is_numbered_as_celeba_with_its_attributes(tmp_path):
    source = tmp_path / "tensorflow_datasets" / "celeb_a" / "2.1.0"
    source.mkdir(parents=True)
    smiling = celeba_files.CELEBA_ATTRIBUTES.index("Smiling")
    for split, count in (("train", 3), ("validation", 1), ("test", 1)):
        with tf.io.TFRecordWriter(str(source / f"celeb_a-{split}.tfrecord-00000-of-00001")) as w:
            for i in range(count):
                feature = {
                    "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[jpeg(i)]))
                }
                for j, attribute in enumerate(celeba_files.CELEBA_ATTRIBUTES):
                    feature[f"attributes/{attribute}"] = tf.train.Feature(
                        int64_list=tf.train.Int64List(value=[int(j == smiling and i == 0)])
                    )
                w.write(
                    tf.train.Example(
                        features=tf.train.Features(feature=feature)
                    ).SerializeToString()
                )
    out = tmp_path / "celeba"
    assert (
        main(
            [
                "--source",
                str(tmp_path / "tensorflow_datasets"),
                "--out",
                str(out),
                "--expected-splits",
                "3",
                "1",
                "1",
            ]
        )
        == 0
    )
    assert celeba_files.read_partition_file(out / celeba_files.PARTITION_FILE) == {
        "000001.jpg": 0,
        "000002.jpg": 0,
        "000003.jpg": 0,
        "000004.jpg": 1,
        "000005.jpg": 2,
    }
    _, rows = celeba_files.read_attribute_file(out / celeba_files.ATTRIBUTE_FILE)
    assert [rows[name][smiling] for name in sorted(rows)] == [1, -1, -1, 1, 1]
    assert (out / celeba_files.IMAGE_DIR / "000004.jpg").read_bytes() == jpeg(0)
