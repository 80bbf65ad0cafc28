"""Attribute directions in z for a generator, as its evaluation found them
(components/gan_evaluator/attributes.py)."""

from __future__ import annotations

import io
import os

import numpy as np
import tensorflow as tf

from dcgan_faces.errors import BadInput


def evaluation_of(export_dir: str, metadata_path: str) -> tuple:
    """(the folder, the metrics) of the latest evaluation of this model recorded in the
    pipeline's metadata, found by the SavedModel's fingerprint; (None, {}) when it was never
    evaluated there."""
    from reporting import run_outputs

    if not os.path.isfile(metadata_path):
        raise BadInput(
            f"no pipeline metadata at {metadata_path} to find the model's attribute "
            "directions in (--metadata)"
        )
    _, evaluation = run_outputs.evaluation_of_export(
        run_outputs.open_store(metadata_path), export_dir
    )
    if evaluation is None:
        return None, {}
    return evaluation.uri, run_outputs.read_metrics(evaluation)


def attribute_samples(export_dir: str, metadata_path: str) -> dict:
    """names, directions, z and decisions (results.ATTRIBUTE_DIRECTIONS_FILE) from the latest
    evaluation of this model recorded in the pipeline's metadata (evaluation_of)."""
    from components.gan_evaluator.results import ATTRIBUTE_DIRECTIONS_FILE

    folder, _ = evaluation_of(export_dir, metadata_path)
    path = os.path.join(folder, ATTRIBUTE_DIRECTIONS_FILE) if folder else None
    if path is None or not tf.io.gfile.exists(path):
        raise BadInput(
            f"no attribute directions for {export_dir} in {metadata_path} (the "
            "evaluator finds them when PipelineConfig.attributes is not empty)"
        )
    with tf.io.gfile.GFile(path, "rb") as f, np.load(io.BytesIO(f.read())) as found:
        return {key: found[key] for key in found.files}


def find_directions(export_dir: str, metadata_path: str) -> dict:
    """{attribute: unit direction [z_dim]} of this model (attribute_samples); attributes too
    rare in the model's samples to have a direction are left out."""
    found = attribute_samples(export_dir, metadata_path)
    return {
        str(name): direction
        for name, direction in zip(found["names"], found["directions"])
        if np.isfinite(direction).all()
    }


def direction_of(directions: dict, name: str) -> np.ndarray:
    if name not in directions:
        raise BadInput(
            f"no direction for attribute {name!r}; this model has directions for "
            f"{', '.join(directions) or 'none'}"
        )
    return directions[name]


def steer(inputs, moves) -> np.ndarray:
    """`inputs` ([N, width] or [width]) moved by each (unit direction, strength) of `moves` in
    turn, in float64, as float32: the one rule by which `edit` and the studio move a face, so
    both draw the same pixels for the same z and strength. Strength is in units of z's standard
    deviation, as the evaluator measures its edits."""
    moved = np.asarray(inputs, np.float64)
    for direction, strength in moves:
        moved = moved + strength * np.asarray(direction, np.float64)
    return moved.astype(np.float32)
