"""Tests for data/synthetic_celeba.py: layout, labels, determinism, caching,
variety."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from data.celeba_files import (
    ATTRIBUTE_FILE,
    CELEBA_ATTRIBUTES,
    IMAGE_DIR,
    PARTITION_FILE,
    read_attribute_file,
    read_partition_file,
)
from data.synthetic_celeba import (
    CONTROLLED_ATTRIBUTES,
    HEIGHT,
    MARKER_FILE,
    WIDTH,
    draw_face,
    ensure_dataset,
    face_for,
    generate_dataset,
    main,
    partition_counts,
)

REPO = Path(__file__).resolve().parents[1]
N, SEED = 60, 0
NAMES = [f"{i:06d}.jpg" for i in range(1, N + 1)]


@pytest.fixture(scope="module")
def dataset(module_tmp):
    return generate_dataset(module_tmp("celeba"), N, SEED)


@pytest.fixture(scope="module")
def attributes(dataset):
    names, rows = read_attribute_file(dataset / ATTRIBUTE_FILE)
    assert names == list(CELEBA_ATTRIBUTES)
    return {name: {attr: row[i] for i, attr in enumerate(names)} for name, row in rows.items()}


@pytest.fixture(scope="module")
def pixels(dataset):
    """All images as one float array (N, HEIGHT, WIDTH, 3), in file order."""
    return np.stack(
        [np.asarray(Image.open(dataset / IMAGE_DIR / name), dtype=float) for name in NAMES]
    )


def all_files(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def region(image, face, u, v, ru, rv):
    """Pixels of the box centred at (u, v) with half-sizes (ru, rv), in face units."""
    (cx, cy), (rx, ry) = face.centre, face.radii
    top, bottom = round(cy + (v - rv) * ry), round(cy + (v + rv) * ry)
    left, right = round(cx + (u - ru) * rx), round(cx + (u + ru) * rx)
    return np.asarray(image, dtype=float)[top:bottom, left:right]


# ------------------------------------------------------------------ layout


def test_layout(dataset):
    assert sorted(p.name for p in dataset.iterdir()) == sorted(
        [IMAGE_DIR, ATTRIBUTE_FILE, PARTITION_FILE]
    )  # no marker: that is ensure_dataset's
    assert sorted(p.name for p in (dataset / IMAGE_DIR).iterdir()) == NAMES
    for name in NAMES:
        with Image.open(dataset / IMAGE_DIR / name) as image:
            assert (image.format, image.size, image.mode) == ("JPEG", (WIDTH, HEIGHT), "RGB")
    assert (WIDTH, HEIGHT) == (178, 218)


def test_attribute_file(dataset, attributes):
    lines = (dataset / ATTRIBUTE_FILE).read_text().splitlines()
    assert lines[0] == str(N)
    assert lines[1].split() == list(CELEBA_ATTRIBUTES)
    assert [line.split()[0] for line in lines[2:]] == NAMES
    assert all(len(line.split()) == 41 for line in lines[2:])
    for name, row in attributes.items():
        assert set(row.values()) <= {1, -1}
        assert {attr for attr, v in row.items() if v == 1} <= set(CONTROLLED_ATTRIBUTES), name
        assert row == face_for(SEED, int(name[:6])).attributes()


def test_labels_are_consistent():
    faces = [face_for(SEED, i) for i in range(1, 3001)]
    rows = [face.attributes() for face in faces]
    for face, row in zip(faces, rows):
        hair_flags = [row[a] for a in ("Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair")]
        assert hair_flags.count(1) == (0 if face.hair == "red" else 1)
        if row["No_Beard"] == -1:
            assert row["Male"] == 1
        if row["Mustache"] == 1 or row["Goatee"] == 1:
            assert row["No_Beard"] == -1
        if row["Wearing_Lipstick"] == 1:
            assert row["Male"] == -1
        if row["Bangs"] == 1:
            assert row["Wearing_Hat"] == -1  # a brim would hide them
    # Every controlled attribute takes both values; the others are never +1.
    for attr in CELEBA_ATTRIBUTES:
        seen = {row[attr] for row in rows}
        assert seen == ({1, -1} if attr in CONTROLLED_ATTRIBUTES else {-1}), attr
    male = np.array([f.male for f in faces])
    long_hair = np.array([f.long_hair for f in faces])
    beard = np.array([f.facial_hair is not None for f in faces])
    assert 0.35 < male.mean() < 0.5
    assert long_hair[male].mean() < 0.25 < 0.75 < long_hair[~male].mean()
    assert beard[male].mean() > 0.3 and not beard[~male].any()


# -------------------------------------------------------------- partitions


def test_partition_file(dataset):
    partitions = read_partition_file(dataset / PARTITION_FILE)
    assert list(partitions) == NAMES
    ids = list(partitions.values())
    assert set(ids) == {0, 1, 2}
    assert ids == sorted(ids)  # train, then eval, then test, by file index like CelebA
    assert tuple(ids.count(split) for split in range(3)) == partition_counts(N) == (48, 6, 6)


def test_partition_counts_follow_celeba():
    assert partition_counts(202_599) == (162_770, 19_867, 19_962)
    assert partition_counts(0) == (0, 0, 0)
    assert sum(partition_counts(1)) == 1 and sum(partition_counts(2)) == 2
    proportions = np.array([162_770, 19_867, 19_962]) / 202_599
    for n in range(3, 2000):
        counts = partition_counts(n)
        assert sum(counts) == n and min(counts) >= 1, n
        if n >= 30:
            assert np.all(np.abs(np.array(counts) - n * proportions) < 1), n


# ------------------------------------------------------------- determinism


def test_same_arguments_give_identical_files(dataset, tmp_path):
    again = generate_dataset(tmp_path / "again", N, SEED)
    assert all_files(again) == all_files(dataset)


def test_image_depends_only_on_seed_and_index(dataset, tmp_path):
    fewer = generate_dataset(tmp_path / "fewer", 7, SEED)
    for name in NAMES[:7]:
        assert (fewer / IMAGE_DIR / name).read_bytes() == (dataset / IMAGE_DIR / name).read_bytes()


def test_parallel_generation_gives_identical_files(tmp_path):
    serial = generate_dataset(tmp_path / "serial", 12, seed=5)
    parallel = generate_dataset(tmp_path / "parallel", 12, seed=5, workers=2)
    assert all_files(serial) == all_files(parallel)


def test_other_seed_gives_other_images(dataset, tmp_path):
    other = generate_dataset(tmp_path / "other", 5, seed=1)
    for name in NAMES[:5]:
        assert (other / IMAGE_DIR / name).read_bytes() != (dataset / IMAGE_DIR / name).read_bytes()


# ---------------------------------------------------------- ensure_dataset


def mtimes(root):
    return {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def test_ensure_dataset_skips_when_marker_matches(tmp_path):
    root = ensure_dataset(tmp_path / "d", 10, seed=2)
    marker = json.loads((root / MARKER_FILE).read_text())
    assert (marker["num_images"], marker["seed"], marker["complete"]) == (10, 2, True)
    assert "format_version" in marker
    before = mtimes(root)
    assert len(before) == 10 + 3

    assert ensure_dataset(root, 10, seed=2) == root
    assert mtimes(root) == before


def test_ensure_dataset_regenerates_when_arguments_change(tmp_path):
    root = ensure_dataset(tmp_path / "d", 12, seed=2)
    first = all_files(root)

    ensure_dataset(root, 8, seed=2)
    assert sorted(p.name for p in (root / IMAGE_DIR).iterdir()) == NAMES[:8]  # none stale
    assert len(read_partition_file(root / PARTITION_FILE)) == 8
    assert json.loads((root / MARKER_FILE).read_text())["num_images"] == 8

    ensure_dataset(root, 8, seed=3)
    assert all_files(root)[Path(IMAGE_DIR, NAMES[0])] != first[Path(IMAGE_DIR, NAMES[0])]


def test_ensure_dataset_redoes_an_interrupted_run(tmp_path):
    root = ensure_dataset(tmp_path / "d", 6, seed=0)
    marker = json.loads((root / MARKER_FILE).read_text())
    (root / MARKER_FILE).write_text(json.dumps({**marker, "complete": False}))
    (root / IMAGE_DIR / NAMES[5]).unlink()
    ensure_dataset(root, 6, seed=0)
    assert (root / IMAGE_DIR / NAMES[5]).exists()
    assert json.loads((root / MARKER_FILE).read_text())["complete"] is True


def test_ensure_dataset_never_deletes_unmarked_images(tmp_path):
    image_dir = tmp_path / IMAGE_DIR
    image_dir.mkdir()
    (image_dir / "000001.jpg").write_bytes(b"a real photo")
    with pytest.raises(FileExistsError, match=MARKER_FILE):
        ensure_dataset(tmp_path, 5)
    assert (image_dir / "000001.jpg").read_bytes() == b"a real photo"


def test_cli_prints_split_counts(tmp_path, capsys):
    main(["--root", str(tmp_path / "d"), "--num-images", "20", "--seed", "4"])
    assert capsys.readouterr().out.split() == ["train:", "16", "eval:", "2", "test:", "2"]
    assert len(list((tmp_path / "d" / IMAGE_DIR).iterdir())) == 20


def test_module_runs_as_a_script(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "data.synthetic_celeba",
            "--root",
            str(tmp_path),
            "--num-images",
            "3",
        ],
        cwd=REPO,
        check=True,
        text=True,
        capture_output=True,
    )
    assert result.stdout.split() == ["train:", "1", "eval:", "1", "test:", "1"]


# ---------------------------------------------------------------- variety


def test_images_vary(pixels):
    assert pixels.std(axis=0).mean() > 30  # per pixel, across images
    flat = pixels.reshape(N, -1)
    squares = (flat**2).sum(axis=1)
    rms = np.sqrt(
        np.maximum(squares[:, None] + squares[None, :] - 2 * flat @ flat.T, 0) / flat.shape[1]
    )
    assert rms[~np.eye(N, dtype=bool)].min() > 10  # no two images alike


def test_faces_sit_where_celeba_puts_them():
    """Eyes near 45% of the height, centred, within the 178x178 centre crop."""
    faces = [face_for(SEED, i) for i in range(1, 500)]
    eye_y = np.array([f.centre[1] - 0.35 * f.radii[1] for f in faces]) / HEIGHT
    assert 0.42 < eye_y.mean() < 0.48 and eye_y.min() > 0.38 and eye_y.max() < 0.52
    centre_x = np.array([f.centre[0] for f in faces])
    assert np.all(np.abs(centre_x - WIDTH / 2) <= 6)
    assert np.std(centre_x) > 2 and np.std([f.radii[0] for f in faces]) > 2


def test_eyeglasses_darken_the_eye_region(attributes, pixels):
    def eye_darkness(i):
        face = face_for(SEED, i + 1)
        eyes = region(pixels[i], face, 0, -0.35, 0.7, 0.15).mean()
        cheeks = region(pixels[i], face, 0, 0.15, 0.5, 0.1).mean()
        return cheeks - eyes

    darkness = {
        v: [eye_darkness(i) for i, name in enumerate(NAMES) if attributes[name]["Eyeglasses"] == v]
        for v in (1, -1)
    }
    assert len(darkness[1]) >= 3
    assert np.mean(darkness[1]) > np.mean(darkness[-1]) + 30


def test_hair_colour_shows_in_the_hair(attributes, pixels):
    """Mean colour at the hairline, for faces without a hat."""
    colours = {}
    for i, name in enumerate(NAMES):
        row = attributes[name]
        if row["Wearing_Hat"] == 1:
            continue
        hair = next(
            (a for a in ("Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair") if row[a] == 1),
            "other",
        )
        patch = region(pixels[i], face_for(SEED, i + 1), 0, -0.92, 0.25, 0.04)
        colours.setdefault(hair, []).append(patch.reshape(-1, 3).mean(axis=0))
    mean = {hair: np.mean(c, axis=0) for hair, c in colours.items()}
    assert all(len(colours[h]) >= 3 for h in ("Black_Hair", "Blond_Hair", "Brown_Hair", "other"))
    brightness = {hair: c.mean() for hair, c in mean.items()}
    assert brightness["Black_Hair"] < 50
    assert brightness["Blond_Hair"] > brightness["Brown_Hair"] + 60 > brightness["Black_Hair"] + 100
    assert mean["Blond_Hair"][0] > mean["Blond_Hair"][2] + 60  # yellow, not white
    gray = mean["Gray_Hair"]
    assert gray.max() - gray.min() < 20 and gray.mean() > 130  # light and unsaturated
    red = mean["other"]  # the only colour without a flag
    assert red[0] > red[2] + 90


def test_pale_skin_is_the_palest(attributes, pixels):
    cheek = {
        v: [
            region(pixels[i], face_for(SEED, i + 1), 0.45, 0.1, 0.1, 0.06).mean()
            for i, name in enumerate(NAMES)
            if attributes[name]["Pale_Skin"] == v
        ]
        for v in (1, -1)
    }
    assert len(cheek[1]) >= 2
    assert min(cheek[1]) > np.percentile(cheek[-1], 80)


# Counterfactual pairs: one face drawn twice, differing in one attribute.

BASE = dataclasses.replace(
    face_for(SEED, 1),
    male=False,
    long_hair=True,
    bangs=False,
    hat=None,
    glasses=None,
    sunglasses=False,
    facial_hair=None,
    smiling=False,
    mouth_open=False,
    lipstick=False,
    hair="brown",
    hair_colour=(105, 64, 36),
    skin=(222, 170, 128),
    skin_tone=0.4,
)


def change_in(region_uv, **changes):
    """Mean absolute pixel change in a face-unit box when `changes` are drawn."""
    before = region(draw_face(BASE), BASE, *region_uv)
    after = region(draw_face(dataclasses.replace(BASE, **changes)), BASE, *region_uv)
    return np.abs(after - before).mean(), after.mean() - before.mean()


EYES, MOUTH, CHIN, FOREHEAD, CROWN = (
    (0, -0.35, 0.7, 0.15),
    (0, 0.4, 0.4, 0.12),
    (0, 0.8, 0.3, 0.12),
    (0, -0.62, 0.4, 0.05),
    (0, -1.1, 0.5, 0.1),
)


@pytest.mark.parametrize(
    "changes, box, min_change, darker",
    [
        (dict(glasses=(20, 20, 22)), EYES, 15, True),
        (dict(glasses=(20, 20, 22), sunglasses=True), EYES, 40, True),
        (dict(smiling=True), MOUTH, 5, None),
        (dict(mouth_open=True), MOUTH, 10, True),
        (dict(male=True, facial_hair="beard"), CHIN, 60, True),
        (dict(male=True, facial_hair="goatee"), CHIN, 60, True),
        (dict(male=True, facial_hair="mustache"), (0, 0.31, 0.3, 0.05), 60, True),
        (dict(bangs=True), FOREHEAD, 60, True),
        (dict(hat=(30, 60, 200)), CROWN, 40, None),
    ],
)
def test_each_attribute_changes_its_region(changes, box, min_change, darker):
    change, shift = change_in(box, **changes)
    assert change > min_change
    if darker:
        assert shift < -min_change / 2


def test_attributes_leave_other_regions_alone():
    change, _ = change_in(CHIN, glasses=(20, 20, 22))
    assert change < 1
    change, _ = change_in(EYES, smiling=True, mouth_open=True)
    assert change < 1
