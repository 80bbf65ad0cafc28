"""A generator SavedModel from wherever a user holds one, checked before use.

Accepted: an exported generator (the folder with saved_model.pb), a Trainer Model artifact (its
Format-Serving/ inside) or a Pusher destination folder (its newest numbered version inside).
"""
from __future__ import annotations

import dataclasses
import os
from typing import Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tfx.utils import path_utils  # noqa: E402

from dcgan_faces import latent  # noqa: E402
from dcgan_faces.errors import BadInput  # noqa: E402
from trainer_module import export  # noqa: E402

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
    if not os.path.exists(path):
        raise GeneratorError(f"{path}: no such directory")
    if not os.path.isdir(path):
        raise GeneratorError(f"{path} is a file; give the generator's directory")
    versions = sorted((name for name in os.listdir(path) if name.isdigit()), key=int,
                      reverse=True)
    candidates = [path, path_utils.serving_model_path(path),
                  *(os.path.join(path, version) for version in versions)]
    for candidate in candidates:
        if os.path.isfile(os.path.join(candidate, SAVED_MODEL_FILE)):
            return candidate
    raise GeneratorError(f"{path} is not a generator: no {SAVED_MODEL_FILE} in it, in its "
                         f"Format-Serving/ or in a numbered version folder")


def _describe(structure) -> str:
    specs = structure if isinstance(structure, dict) else structure[1]
    return ", ".join(f"{name} {spec.dtype.name} {list(spec.shape)}"
                     for name, spec in sorted(specs.items()))


def _is_generator(signature) -> bool:
    """serving_default maps z float32 [N, d] to images uint8 [N, H, W, C]."""
    _, inputs = signature.structured_input_signature
    z, images = inputs.get("z"), signature.structured_outputs.get("images")
    return (set(inputs) == {"z"} and z.dtype == tf.float32 and z.shape.rank == 2
            and z.shape[1] is not None and images is not None and images.dtype == tf.uint8
            and images.shape.rank == 4)


@dataclasses.dataclass
class Generator:
    path: str  # the folder holding saved_model.pb
    z_dim: int
    signatures: dict  # name -> "inputs -> outputs", for people
    _serve: object
    _sample: Optional[object]
    _loaded: object  # keeps the signatures' variables alive

    def images(self, z) -> np.ndarray:
        """uint8 [N, H, W, 3] for latent points z [N, z_dim]."""
        z = np.asarray(z, np.float32)
        return np.concatenate([self._serve(z=tf.constant(z[start:start + BATCH_SIZE]))["images"]
                               .numpy() for start in range(0, len(z), BATCH_SIZE)])

    def sample(self, count: int, seed: int) -> np.ndarray:
        """`count` images for a seed: the model's own `sample` signature when it has one, so a
        served model gives the same faces for the same seed."""
        if self._sample is not None:
            return self._sample(count=tf.constant(count, tf.int32),
                                seed=tf.constant(seed, tf.int64))["images"].numpy()
        return self.images(latent.latent_points(count, self.z_dim, seed))

    def training_config(self) -> Optional[dict]:
        return export.read_training_config(self.path)


def load(path: str) -> Generator:
    export_dir = find_export_dir(path)
    try:
        loaded = tf.saved_model.load(export_dir)
    except Exception as err:  # a corrupt or foreign file: say so in one line
        first_line = str(err).splitlines()[0] if str(err) else ""
        raise GeneratorError(f"{export_dir}: not a readable SavedModel "
                             f"({type(err).__name__}: {first_line})") from err
    signatures = dict(loaded.signatures)
    serve = signatures.get(export.SERVING_SIGNATURE)
    if serve is None or not _is_generator(serve):
        found = ", ".join(sorted(signatures)) or "none"
        raise GeneratorError(
            f"{export_dir} is a SavedModel but not a generator: it needs a "
            f"{export.SERVING_SIGNATURE} signature z float32 [N, d] -> images uint8 [N, H, W, 3] "
            f"(signatures found: {found})")
    return Generator(
        path=export_dir, z_dim=int(serve.structured_input_signature[1]["z"].shape[1]),
        signatures={name: f"{_describe(fn.structured_input_signature)} -> "
                          f"{_describe(fn.structured_outputs)}"
                    for name, fn in sorted(signatures.items())},
        _serve=serve, _sample=signatures.get(export.SAMPLE_SIGNATURE), _loaded=loaded)
