"""Synthetic stand-in for CelebA, in CelebA's exact folder and file layout.

Real CelebA is large and needs a manual download, so tests and demo runs use
cartoon faces drawn with Pillow instead. They go through the same reader as
the real data, vary in the ways a DCGAN can learn at 64x64, and carry
truthful labels for the attributes the drawing controls.

Image i depends only on (seed, i), so the same (num_images, seed) always
gives byte-identical files, whichever process draws them.

    python -m data.synthetic_celeba --root DIR --num-images N --seed S
"""

from __future__ import annotations

import argparse
import bisect
import io
import itertools
import json
import math
import shutil
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from data.celeba_files import (
    ATTRIBUTE_FILE,
    CELEBA_ATTRIBUTES,
    IMAGE_DIR,
    PARTITION_FILE,
    PARTITION_NAMES,
    write_attribute_file,
    write_partition_file,
)

WIDTH, HEIGHT = 178, 218
JPEG_QUALITY = 90
MARKER_FILE = ".synthetic_celeba.json"
FORMAT_VERSION = 1
CELEBA_SPLIT_SIZES = (162_770, 19_867, 19_962)
"""Train / eval / test image counts of real CelebA (202,599 in all)."""

CONTROLLED_ATTRIBUTES: tuple[str, ...] = (
    "Bangs",
    "Black_Hair",
    "Blond_Hair",
    "Brown_Hair",
    "Eyeglasses",
    "Goatee",
    "Gray_Hair",
    "Male",
    "Mouth_Slightly_Open",
    "Mustache",
    "No_Beard",
    "Pale_Skin",
    "Smiling",
    "Wearing_Hat",
    "Wearing_Lipstick",
)
"""Attributes the drawing decides; every other attribute is always -1."""

Colour = tuple[int, int, int]

HAIR_COLOURS: dict[str, Colour] = {
    "black": (28, 22, 20),
    "brown": (105, 64, 36),
    "blond": (224, 190, 118),
    "gray": (172, 170, 166),
    "red": (170, 70, 34),
}
HAIR_PROBABILITIES = (0.3, 0.28, 0.2, 0.1, 0.12)
HAIR_ATTRIBUTES = {
    "black": "Black_Hair",
    "brown": "Brown_Hair",
    "blond": "Blond_Hair",
    "gray": "Gray_Hair",
}
"""Hair colours with a CelebA flag; red has none, so it sets all four to -1."""

SKIN_TONES: tuple[Colour, ...] = (
    (255, 228, 210),
    (240, 198, 165),
    (222, 170, 128),
    (196, 134, 94),
    (140, 88, 58),
    (88, 56, 38),
)
"""Anchors from palest to darkest; a face's tone in [0, 1] interpolates them."""
PALE_LIMIT = 0.1
"""Tones below this are the palest tenth and get Pale_Skin=1."""

EYE_COLOURS: tuple[Colour, ...] = (
    (55, 36, 24),
    (100, 64, 34),
    (70, 110, 160),
    (80, 118, 78),
    (110, 110, 115),
)
GLASSES_COLOURS: tuple[Colour, ...] = ((20, 20, 22), (84, 52, 30), (150, 150, 155))
MOUTH_INSIDE: Colour = (72, 24, 30)
TEETH: Colour = (236, 232, 222)
LIPSTICK: Colour = (186, 32, 56)
LIP_TINT: Colour = (150, 50, 60)
FACIAL_HAIR_STYLES = ("beard", "goatee", "mustache")

CENTRE_Y = 116
"""Nominal face centre; with EYE_LEVEL it puts the eyes near 45% of the height."""
EYE_LEVEL, EYE_SPACING = -0.35, 0.40
MOUTH_LEVEL = 0.42


@dataclass(frozen=True)
class Face:
    """Everything that decides one picture; its labels are derived from it."""

    background: Colour
    background_bottom: Colour  # equal to `background` for a flat one
    centre: tuple[float, float]
    radii: tuple[float, float]  # face ellipse half-width and half-height
    skin_tone: float  # 0 palest .. 1 darkest
    skin: Colour
    male: bool
    hair: str  # a key of HAIR_COLOURS
    hair_colour: Colour
    long_hair: bool
    bangs: bool
    hat: Colour | None
    eye_colour: Colour
    glasses: Colour | None
    sunglasses: bool
    facial_hair: str | None  # one of FACIAL_HAIR_STYLES
    smiling: bool
    mouth_open: bool
    lipstick: bool
    clothes: Colour

    def attributes(self) -> dict[str, int]:
        """All 40 CelebA attributes as +1/-1, in CelebA's order."""
        flags = {
            "Bangs": self.bangs,
            "Eyeglasses": self.glasses is not None,
            "Goatee": self.facial_hair == "goatee",
            "Male": self.male,
            "Mouth_Slightly_Open": self.mouth_open,
            "Mustache": self.facial_hair == "mustache",
            "No_Beard": self.facial_hair is None,
            "Pale_Skin": self.skin_tone < PALE_LIMIT,
            "Smiling": self.smiling,
            "Wearing_Hat": self.hat is not None,
            "Wearing_Lipstick": self.lipstick,
        }
        flags.update({attr: self.hair == hair for hair, attr in HAIR_ATTRIBUTES.items()})
        return {name: 1 if flags.get(name) else -1 for name in CELEBA_ATTRIBUTES}


# ---------------------------------------------------------------- sampling


def _colour(values) -> Colour:
    return tuple(min(255, max(0, round(float(v)))) for v in values)


def _jitter(rng: np.random.Generator, colour: Colour, amount: float) -> Colour:
    return _colour(c + d for c, d in zip(colour, rng.uniform(-amount, amount, 3)))


def _random_colour(rng: np.random.Generator, low: int, high: int) -> Colour:
    return _colour(rng.uniform(low, high, 3))


def _choose(rng: np.random.Generator, options: Sequence, probabilities: Sequence[float] = ()):
    """One of `options`, uniformly or with the given probabilities.

    Cheaper than Generator.choice for the handful of options used here.
    """
    if not probabilities:
        return options[rng.integers(len(options))]
    return options[bisect.bisect(list(itertools.accumulate(probabilities[:-1])), rng.random())]


def _shade(colour: Colour, factor: float) -> Colour:
    return _colour(c * factor for c in colour)


def _mix(a: Colour, b: Colour, weight: float) -> Colour:
    return _colour((1 - weight) * x + weight * y for x, y in zip(a, b))


def _skin_colour(tone: float) -> Colour:
    position = tone * (len(SKIN_TONES) - 1)
    low = min(int(position), len(SKIN_TONES) - 2)
    return _mix(SKIN_TONES[low], SKIN_TONES[low + 1], position - low)


def sample_face(rng: np.random.Generator) -> Face:
    """Draw the random choices for one face, with CelebA-like correlations."""
    male = rng.random() < 0.42
    scale = rng.uniform(0.92, 1.08)
    centre = (WIDTH / 2 + rng.uniform(-6, 6), CENTRE_Y + rng.uniform(-6, 6))
    radii = (rng.uniform(37, 46) * scale, rng.uniform(49, 58) * scale)
    tone = rng.random()
    hair = _choose(rng, list(HAIR_COLOURS), HAIR_PROBABILITIES)
    background = _random_colour(rng, 20, 235)
    gradient = rng.random() < 0.35
    smiling = rng.random() < 0.48
    glasses = rng.random() < 0.12
    hat = _random_colour(rng, 10, 245) if rng.random() < 0.08 else None
    return Face(
        background=background,
        background_bottom=_random_colour(rng, 20, 235) if gradient else background,
        centre=centre,
        radii=radii,
        skin_tone=tone,
        skin=_jitter(rng, _skin_colour(tone), 5),
        male=male,
        hair=hair,
        hair_colour=_jitter(rng, HAIR_COLOURS[hair], 12),
        long_hair=rng.random() < (0.12 if male else 0.85),
        bangs=hat is None and rng.random() < (0.1 if male else 0.3),  # a brim would hide them
        hat=hat,
        eye_colour=_choose(rng, EYE_COLOURS),
        glasses=_choose(rng, GLASSES_COLOURS) if glasses else None,
        sunglasses=glasses and rng.random() < 0.3,
        facial_hair=(
            _choose(rng, FACIAL_HAIR_STYLES, (0.45, 0.25, 0.3))
            if male and rng.random() < 0.45
            else None
        ),
        smiling=smiling,
        mouth_open=rng.random() < (0.65 if smiling else 0.25),
        lipstick=not male and rng.random() < 0.7,
        clothes=_random_colour(rng, 10, 245),
    )


def face_for(seed: int, index: int) -> Face:
    """The face of image `index` (1-based) in the dataset made with `seed`."""
    return sample_face(np.random.default_rng([seed, index]))


# ----------------------------------------------------------------- drawing


class _Pen:
    """ImageDraw in face units: (0, 0) is the face centre, 1 is a face radius.

    Drawing in these units lets one set of shapes follow each face's
    position, size and proportions.
    """

    def __init__(self, image: Image.Image, face: Face):
        self.draw = ImageDraw.Draw(image)
        self.cx, self.cy = face.centre
        self.rx, self.ry = face.radii

    def point(self, u: float, v: float) -> tuple[float, float]:
        return self.cx + u * self.rx, self.cy + v * self.ry

    def box(self, u: float, v: float, ru: float, rv: float) -> list[float]:
        """Bounding box of the ellipse centred at (u, v) with radii (ru, rv)."""
        return [*self.point(u - ru, v - rv), *self.point(u + ru, v + rv)]

    def ellipse(self, u, v, ru, rv, fill=None, outline=None, width=1):
        self.draw.ellipse(self.box(u, v, ru, rv), fill=fill, outline=outline, width=width)

    def chord(self, u, v, ru, rv, start, end, fill):
        self.draw.chord(self.box(u, v, ru, rv), start, end, fill=fill)

    def line(self, points, fill, width):
        self.draw.line([self.point(u, v) for u, v in points], fill=fill, width=width, joint="curve")

    def polygon(self, points, fill):
        self.draw.polygon([self.point(u, v) for u, v in points], fill=fill)

    def pixels(self, size: float) -> int:
        """A stroke width that scales with the face, at least 1 pixel."""
        return max(1, round(size * self.ry))


@lru_cache(maxsize=1)
def _vertical_gradient() -> Image.Image:
    return Image.linear_gradient("L").resize((WIDTH, HEIGHT))


def _background(face: Face) -> Image.Image:
    top = Image.new("RGB", (WIDTH, HEIGHT), face.background)
    if face.background_bottom == face.background:
        return top
    bottom = Image.new("RGB", (WIDTH, HEIGHT), face.background_bottom)
    return Image.composite(bottom, top, _vertical_gradient())


def _draw_hair_behind(pen: _Pen, face: Face) -> None:
    """Hair seen around the head: a short cap, or long hair to the shoulders."""
    if face.long_hair:
        pen.ellipse(0, -0.35, 1.25, 0.92, fill=face.hair_colour)
        pen.draw.rounded_rectangle(
            [*pen.point(-1.25, -0.35), *pen.point(1.25, 1.4)],
            radius=0.4 * pen.rx,
            fill=face.hair_colour,
        )
    else:
        pen.ellipse(0, -0.4, 1.1, 0.82, fill=face.hair_colour)


def _draw_head(pen: _Pen, face: Face) -> None:
    pen.ellipse(0, 2.05, 2.1, 0.75, fill=face.clothes)  # shoulders
    _draw_hair_behind(pen, face)
    pen.draw.rectangle(
        [*pen.point(-0.42, 0.5), *pen.point(0.42, 1.45)], fill=_shade(face.skin, 0.85)
    )  # neck
    if not face.long_hair:
        for side in (-1, 1):
            pen.ellipse(side * 1.0, -0.15, 0.13, 0.2, fill=_shade(face.skin, 0.92))  # ears
    pen.ellipse(0, 0, 1, 1, fill=face.skin)
    pen.chord(0, 0, 1, 1, 232, 308, fill=face.hair_colour)  # hairline
    if face.bangs:
        pen.chord(0, 0, 1, 1, 215, 325, fill=face.hair_colour)
        for u in (-0.6, -0.4, -0.2, 0.0, 0.2, 0.4, 0.6):  # fringe strands
            pen.polygon([(u - 0.1, -0.58), (u + 0.1, -0.58), (u, -0.52)], fill=face.hair_colour)


def _draw_eyes(pen: _Pen, face: Face) -> None:
    brow = _shade(face.hair_colour, 0.6)
    brow_width = pen.pixels(0.06 if face.male else 0.045)
    for side in (-1, 1):
        u = side * EYE_SPACING
        pen.line(
            [(u - 0.2, EYE_LEVEL - 0.12), (u, EYE_LEVEL - 0.16), (u + 0.2, EYE_LEVEL - 0.13)],
            fill=brow,
            width=brow_width,
        )
        pen.ellipse(u, EYE_LEVEL, 0.17, 0.065, fill=(245, 242, 238))
        pen.ellipse(u, EYE_LEVEL, 0.085, 0.062, fill=face.eye_colour)
        pen.ellipse(u, EYE_LEVEL, 0.035, 0.03, fill=(10, 10, 10))


def _draw_nose(pen: _Pen, face: Face) -> None:
    shadow = _shade(face.skin, 0.75)
    pen.line([(0.02, EYE_LEVEL + 0.12), (-0.05, 0.08)], fill=shadow, width=pen.pixels(0.035))
    pen.draw.arc(pen.box(0, 0.08, 0.14, 0.06), 20, 160, fill=shadow, width=pen.pixels(0.04))


def _draw_facial_hair(pen: _Pen, face: Face) -> None:
    colour = _shade(face.hair_colour, 0.85)
    if face.facial_hair == "beard":
        pen.chord(0, 0.02, 1.04, 1.04, 20, 160, fill=colour)
    elif face.facial_hair == "goatee":
        pen.ellipse(0, 0.8, 0.26, 0.2, fill=colour)
    elif face.facial_hair == "mustache":
        pen.ellipse(0, MOUTH_LEVEL - 0.11, 0.34, 0.065, fill=colour)


def _draw_mouth(pen: _Pen, face: Face) -> None:
    """Smiling curves the lips upward; an open mouth shows a dark opening."""
    lips = _mix(face.skin, LIPSTICK, 0.85) if face.lipstick else _mix(face.skin, LIP_TINT, 0.45)
    lip_width = pen.pixels(0.07 if face.lipstick else 0.055)
    v = MOUTH_LEVEL
    if face.smiling and face.mouth_open:
        pen.chord(0, v - 0.06, 0.34, 0.14, 0, 180, fill=MOUTH_INSIDE)
        pen.chord(0, v - 0.06, 0.3, 0.06, 0, 180, fill=TEETH)
        pen.draw.arc(pen.box(0, v - 0.06, 0.34, 0.14), 0, 180, fill=lips, width=lip_width)
    elif face.smiling:
        pen.draw.arc(pen.box(0, v - 0.14, 0.4, 0.2), 10, 170, fill=lips, width=lip_width + 1)
    elif face.mouth_open:
        pen.ellipse(0, v, 0.2, 0.075, fill=MOUTH_INSIDE, outline=lips, width=lip_width)
    else:
        pen.line([(-0.27, v), (0.27, v)], fill=lips, width=lip_width)


def _draw_glasses(pen: _Pen, face: Face) -> None:
    if face.glasses is None:
        return
    lens = (25, 25, 30) if face.sunglasses else None
    frame_width = pen.pixels(0.045)
    for side in (-1, 1):
        u = side * EYE_SPACING
        pen.ellipse(u, EYE_LEVEL, 0.27, 0.17, fill=lens, outline=face.glasses, width=frame_width)
        pen.line(
            [(side * 0.67, EYE_LEVEL - 0.02), (side * 0.98, EYE_LEVEL - 0.05)],
            fill=face.glasses,
            width=frame_width,
        )
    pen.line(
        [(-0.13, EYE_LEVEL - 0.02), (0.13, EYE_LEVEL - 0.02)], fill=face.glasses, width=frame_width
    )


def _draw_hat(pen: _Pen, face: Face) -> None:
    if face.hat is None:
        return
    pen.chord(0, -0.7, 1.02, 0.85, 180, 360, fill=face.hat)  # crown
    pen.ellipse(0, -0.72, 1.32, 0.11, fill=_shade(face.hat, 0.85))  # brim


def _soften(image: Image.Image) -> Image.Image:
    """A Gaussian blur of sigma 1, so edges look photographic rather than drawn.

    Two passes of a half-pixel box blur make the binomial kernel
    [1 4 6 4 1] / 16, a Gaussian of sigma 1, in about 60% of the time of
    ImageFilter.GaussianBlur(1), its biggest cost per image.
    """
    half_pixel = ImageFilter.BoxBlur(0.5)
    return image.filter(half_pixel).filter(half_pixel)


def draw_face(face: Face) -> Image.Image:
    """Render `face` as a 178x218 RGB image, softened like a photograph."""
    image = _background(face)
    pen = _Pen(image, face)
    _draw_head(pen, face)
    _draw_eyes(pen, face)
    _draw_nose(pen, face)
    _draw_facial_hair(pen, face)
    _draw_mouth(pen, face)
    _draw_glasses(pen, face)
    _draw_hat(pen, face)
    return _soften(image)


# ----------------------------------------------------------------- dataset


def image_name(index: int) -> str:
    """CelebA's file name for 1-based `index`: 000001.jpg, 000002.jpg, ..."""
    return f"{index:06d}.jpg"


def partition_counts(num_images: int) -> tuple[int, int, int]:
    """Train/eval/test counts in CelebA's proportions, summing to `num_images`.

    Largest-remainder rounding keeps the counts exact integers; with three or
    more images every split gets at least one, so none is empty.
    """
    total = sum(CELEBA_SPLIT_SIZES)
    exact = [num_images * size / total for size in CELEBA_SPLIT_SIZES]
    counts = [math.floor(e) for e in exact]
    by_remainder = sorted(range(3), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in by_remainder[: num_images - sum(counts)]:
        counts[i] += 1
    if num_images >= 3:
        for i in range(3):
            if counts[i] == 0:
                counts[counts.index(max(counts))] -= 1
                counts[i] = 1
    return tuple(counts)


def _write_image(image_dir: Path, seed: int, index: int) -> list[int]:
    """Draw and save one image; return its 40 attribute values."""
    face = face_for(seed, index)
    buffer = io.BytesIO()
    draw_face(face).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    (image_dir / image_name(index)).write_bytes(buffer.getvalue())
    return list(face.attributes().values())


def _marker(num_images: int, seed: int, complete: bool) -> dict:
    return {
        "format_version": FORMAT_VERSION,
        "num_images": num_images,
        "seed": seed,
        "complete": complete,
    }


def _write_marker(root: Path, num_images: int, seed: int, complete: bool) -> None:
    (root / MARKER_FILE).write_text(json.dumps(_marker(num_images, seed, complete)) + "\n")


def _read_marker(path: Path) -> dict | None:
    """The marker's contents, {} if unreadable (still ours), None if absent."""
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:
        return {}


def generate_dataset(root: str | Path, num_images: int, seed: int = 0, workers: int = 1) -> Path:
    """Write `num_images` faces plus attribute and partition files under `root`.

    `workers` > 1 draws in that many processes; the files are the same.
    """
    root = Path(root)
    image_dir = root / IMAGE_DIR
    image_dir.mkdir(parents=True, exist_ok=True)
    indices = range(1, num_images + 1)
    write_one = partial(_write_image, image_dir, seed)
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            values = list(pool.map(write_one, indices, chunksize=256))
    else:
        values = [write_one(i) for i in indices]

    names = [image_name(i) for i in indices]
    write_attribute_file(root / ATTRIBUTE_FILE, dict(zip(names, values)))
    split_ids = [
        split for split, count in enumerate(partition_counts(num_images)) for _ in range(count)
    ]
    write_partition_file(root / PARTITION_FILE, dict(zip(names, split_ids)))
    return root


def ensure_dataset(root: str | Path, num_images: int, seed: int = 0, workers: int = 1) -> Path:
    """Generate the dataset unless `root` already holds exactly this one.

    The marker is written last, so a run that was cut short regenerates. A
    provisional marker written first says the folder is ours to wipe; an
    image folder with no marker at all may be real CelebA and is never
    deleted.
    """
    root = Path(root)
    marker = root / MARKER_FILE
    found = _read_marker(marker)
    if found == _marker(num_images, seed, complete=True):
        return root

    image_dir = root / IMAGE_DIR
    if image_dir.exists():
        if found is None and any(image_dir.iterdir()):
            raise FileExistsError(
                f"{image_dir} has images but no {MARKER_FILE}; not overwriting them"
            )
        shutil.rmtree(image_dir)
    root.mkdir(parents=True, exist_ok=True)
    _write_marker(root, num_images, seed, complete=False)
    generate_dataset(root, num_images, seed, workers)
    _write_marker(root, num_images, seed, complete=True)
    return root


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True, type=Path, help="dataset folder")
    parser.add_argument("--num-images", required=True, type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, help="processes drawing images")
    args = parser.parse_args(argv)
    ensure_dataset(args.root, args.num_images, args.seed, args.workers)
    for split, count in zip(PARTITION_NAMES.values(), partition_counts(args.num_images)):
        print(f"{split}: {count}")


if __name__ == "__main__":
    main()
