"""A generator SavedModel from wherever a user holds one, checked before use.

Accepted: an exported generator (the folder with saved_model.pb), a Trainer Model artifact (its
Format-Serving/ inside) or a Pusher destination folder (its newest numbered version inside).
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import tensorflow as tf
from tfx.utils import path_utils

from dcgan_faces.errors import BadInput
from trainer_module import conditions, export

SAVED_MODEL_FILE = "saved_model.pb"
BATCH_SIZE = 64  # z vectors per call: bounds memory for long walks


class GeneratorError(BadInput):
    """The path does not hold a usable generator; the message says what is wrong."""


def find_export_dir(path: str) -> str:
    """The folder holding the generator's saved_model.pb, for any of the accepted layouts.

    Of a Pusher's numbered versions, the newest complete one: Pusher copies saved_model.pb
    last, so a version without it is a push still running or killed part-way, which TF Serving
    would not load either.
    """
    if not tf.io.gfile.exists(path):
        raise GeneratorError(f"{path}: no such directory")
    if not tf.io.gfile.isdir(path):
        raise GeneratorError(f"{path} is a file; give the generator's directory")
    names = (name.rstrip("/") for name in tf.io.gfile.listdir(path))  # gs:// marks folders by /
    versions = sorted((name for name in names if name.isdigit()), key=int, reverse=True)
    candidates = [
        path,
        path_utils.serving_model_path(path),
        *(os.path.join(path, version) for version in versions),
    ]
    for candidate in candidates:
        if tf.io.gfile.exists(os.path.join(candidate, SAVED_MODEL_FILE)):
            return candidate
    raise GeneratorError(
        f"{path} is not a generator: no {SAVED_MODEL_FILE} in it, in its "
        f"Format-Serving/ or in a numbered version folder"
    )


def _describe(structure) -> str:
    specs = structure if isinstance(structure, dict) else structure[1]
    return ", ".join(
        f"{name} {spec.dtype.name} {list(spec.shape)}" for name, spec in sorted(specs.items())
    )


def parse_request(text: str, names) -> np.ndarray:
    """'Eyeglasses=1,Smiling,Male=0' -> the codes a conditional generator takes, in `names`'
    order: +1 asked present (NAME or NAME=1), -1 asked absent (NAME=0), 0 left open."""
    request = np.zeros(len(names), np.float32)
    for part in (part.strip() for part in text.split(",")):
        if not part:
            continue
        name, _, value = part.partition("=")
        name, value = name.strip(), value.strip() or "1"
        if name not in names:
            raise GeneratorError(
                f"unknown attribute {name!r}; this generator is conditioned on {', '.join(names)}"
            )
        if request[list(names).index(name)]:
            raise GeneratorError(f"{name} is asked for twice")
        if value not in ("0", "1"):
            raise GeneratorError(f"{name}={value}: an attribute is 1 (present) or 0 (absent)")
        request[list(names).index(name)] = conditions.PRESENT if value == "1" else conditions.ABSENT
    return request


@dataclasses.dataclass
class Generator:
    path: str  # the folder holding saved_model.pb
    z_dim: int
    signatures: dict  # name -> "inputs -> outputs", for people
    _exported: export.LoadedGenerator
    # A conditional generator's attribute names, in its inputs' order; () for an unconditional one.
    attribute_names: tuple = ()

    @property
    def conditional(self) -> bool:
        return bool(self.attribute_names)

    def inputs(self, count: int, seed: int) -> np.ndarray:
        """Fixed inputs for a seed: z, followed by real attribute rows (the table the model
        carries) for a conditional generator (trainer_module/conditions.py)."""
        return conditions.generator_inputs(count, self.z_dim, seed, self._exported.attribute_table)

    def images(self, inputs) -> np.ndarray:
        """uint8 [N, H, W, 3] for inputs [N, z_dim] (a conditional generator's: [N, z_dim +
        attributes], z then the attribute codes)."""
        inputs = np.asarray(inputs, np.float32)
        expected = self.z_dim + len(self.attribute_names)
        if inputs.ndim != 2 or inputs.shape[1] != expected:
            raise GeneratorError(
                f"{self.path} takes inputs of width {expected}, got {list(inputs.shape)}"
            )
        return np.concatenate(
            [
                self._exported.images(inputs[start : start + BATCH_SIZE])
                for start in range(0, len(inputs), BATCH_SIZE)
            ]
        )

    def _check_request(self, attributes: str) -> None:
        if attributes and not self.conditional:
            raise GeneratorError(
                f"{self.path} is an unconditional generator: it cannot be asked "
                "for attributes (train with conditional=True, or move its faces "
                "with `edit --add`)"
            )

    def sample_inputs(self, count: int, seed: int, attributes: str = "") -> np.ndarray:
        """The inputs `sample` draws its faces from, [count, z_dim (+ attributes)]: the same z
        (and attribute rows) the model's `sample` signature makes inside its graph
        (trainer_module/export.py), so that one face of a `sample` grid can be drawn alone,
        moved along a direction, or written down and drawn again (the studio, `sample --z`).
        Face i is the same for any count above i."""
        self._check_request(attributes)
        if self._exported.sample is None:
            return self.inputs(count, seed)
        seed = tf.constant(seed, tf.int64)
        z = export._latent(tf.constant(count, tf.int32), seed, self.z_dim).numpy()
        if not self.conditional:
            return z
        rows = conditions.matching_rows(
            self._exported.module.attribute_table,
            tf.constant(parse_request(attributes, self.attribute_names)),
            count,
            tf.stack([seed, tf.constant(1, tf.int64)]),
        ).numpy()
        return np.concatenate([z, rows], axis=1)

    def sample(self, count: int, seed: int, attributes: str = "") -> np.ndarray:
        """`count` images for a seed: the model's own `sample` signature when it has one, so a
        served model gives the same faces for the same seed. `attributes` ('Smiling=1,Male=0'):
        a conditional generator's request (parse_request); the rest follow real faces."""
        self._check_request(attributes)
        if self._exported.sample is None:
            return self.images(self.inputs(count, seed))
        arguments = {"count": tf.constant(count, tf.int32), "seed": tf.constant(seed, tf.int64)}
        if self.conditional:
            arguments[export.ATTRIBUTES_INPUT] = tf.constant(
                parse_request(attributes, self.attribute_names)
            )
        return self._exported.sample(**arguments)["images"].numpy()

    def training_config(self) -> dict | None:
        return export.read_training_config(self.path)


def load(path: str) -> Generator:
    export_dir = find_export_dir(path)
    try:
        exported = export.load_generator(export_dir)
    except export.NotAGenerator as err:
        raise GeneratorError(str(err)) from err
    except Exception as err:  # a corrupt or foreign file: say so in one line
        first_line = str(err).splitlines()[0] if str(err) else ""
        raise GeneratorError(
            f"{export_dir}: not a readable SavedModel ({type(err).__name__}: {first_line})"
        ) from err
    names = ()
    if exported.attribute_count:
        config = export.read_training_config(export_dir) or {}
        names = tuple(config.get("attributes", ()))
        if len(names) != exported.attribute_count:
            raise GeneratorError(
                f"{export_dir} is a conditional generator whose training config "
                f"does not name its {exported.attribute_count} attributes"
            )
    return Generator(
        path=export_dir,
        z_dim=exported.z_dim,
        attribute_names=names,
        signatures={
            name: f"{_describe(fn.structured_input_signature)} -> "
            f"{_describe(fn.structured_outputs)}"
            for name, fn in sorted(exported.module.signatures.items())
        },
        _exported=exported,
    )
