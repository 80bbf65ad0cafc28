"""One face written down: the generator's exact inputs as JSON, so that `dcgan-faces sample MODEL
--z FILE` draws the very face the studio showed (the same float32 z and attribute codes, the
same serving signature, hence the same pixels).

    {"z": [z_dim numbers],
     "attributes": {"Smiling": 1.0, ...},      a conditional generator's codes, every attribute
     "model": ..., "seed": ..., "index": ..., "edits": {...}, "command": ...}   where it came from

A float32 written as a Python float (float64) and read back is the same float32, so the file
is exact. Only z and attributes are read back; the rest tells a person where the face came from.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

from dcgan_faces.errors import BadInput


def to_json(model, inputs, **provenance) -> dict:
    """The file's content for one face's inputs [z_dim (+ attributes)] of `model`
    (generator.Generator); `provenance`: what else to write down (seed, index, edits, ...)."""
    inputs = np.asarray(inputs, np.float32)
    written = {"z": [float(value) for value in inputs[: model.z_dim]]}
    if model.conditional:
        written["attributes"] = {
            name: float(value) for name, value in zip(model.attribute_names, inputs[model.z_dim :])
        }
    return {**written, "model": os.path.abspath(model.path), **provenance}


def read(path: str, model) -> np.ndarray:
    """float32 [1, z_dim (+ attributes)]: the inputs a face file holds, checked against the
    model that is to draw them."""
    if not os.path.isfile(path):
        raise BadInput(f"--z {path}: no such file")
    try:
        with open(path, encoding="utf-8") as f:
            found = json.load(f)
    except (ValueError, UnicodeDecodeError) as err:
        raise BadInput(f"--z {path} is not a face file (JSON): {err}") from None
    if not isinstance(found, dict) or "z" not in found:
        raise BadInput(f'--z {path} is not a face file: it has no "z"')
    z = _numbers(found["z"], path, "z")
    if len(z) != model.z_dim:
        raise BadInput(
            f"--z {path} holds a z of {len(z)} numbers; {model.path} takes {model.z_dim}"
        )
    codes = found.get("attributes")
    if not model.conditional:
        if codes:
            raise BadInput(
                f"--z {path} holds attribute codes, but {model.path} is an unconditional generator"
            )
        return np.asarray([z], np.float32)
    if not isinstance(codes, dict) or set(codes) != set(model.attribute_names):
        raise BadInput(
            f'--z {path} must give "attributes" a code for each of '
            f"{', '.join(model.attribute_names)}"
        )
    values = _numbers([codes[name] for name in model.attribute_names], path, "attributes")
    return np.asarray([z + values], np.float32)


def _numbers(values, path: str, key: str) -> list:
    if not isinstance(values, list) or not all(
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        for value in values
    ):
        raise BadInput(f'--z {path}: "{key}" must hold finite numbers only')
    return [float(value) for value in values]
