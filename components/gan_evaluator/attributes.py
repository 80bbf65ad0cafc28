"""Attributes of generated faces, measured with the attribute classifier (the ruler):

- the ruler itself: trained on the real training split, its accuracy per attribute on the real
  test split next to the floor of always answering the commoner value;
- how often the generator draws each attribute, next to how often real faces have it;
- one direction per attribute in z, for any generator (the unconditional one too): the mean z
  of samples the ruler says have it minus the mean z of those it says lack it (the DCGAN paper
  averaged three hand-picked samples per concept; here every sample counts), and how well it
  edits: of fresh samples without the attribute, the fraction that have it after z moves
  `strength` along the unit direction, and of each other attribute the fraction of samples
  whose decision changes on the way (their mean, and the largest); "other" leaves out the
  attributes real faces tie to the edited one (bound_attributes: blond hair has to go when
  black hair comes);
- the DCGAN paper's vector arithmetic, scored (face_arithmetic.py);
- for a conditional generator, fidelity: asked for each attribute present, then absent (the
  others from real faces that agree, request_grid), how often the ruler agrees with the request;
  and the edit of the request itself (code_edit): the fresh samples' codes with the attribute
  asked present, scored as the directions' edits are (flip rate, others changed).
  Given an embedding, the same faces are embedded as they are drawn, for the quality per
  condition (condition_quality.py): drawing them once serves both measures.

A conditional generator's "z" here is its whole input, z followed by the attribute codes
(trainer_module/conditions.py): its directions and edits move the codes too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from common import IMAGE_KEY
from components.gan_evaluator import face_arithmetic
from components.gan_evaluator.attribute_classifier import (
    AttributeClassifier,
    ClassifierSettings,
    agreement,
    majority_rate,
    present_rate,
    train_classifier,
)
from trainer_module import conditions, pixels
from trainer_module.transformed_examples import attribute_keys, split_files

PREFIX = "attributes/"
DIRECTION_SEED, EDIT_SEED = 4321, 8765  # the z of the directions and of the edits
MIN_GROUP = 10  # samples on each side of an attribute for a direction; fewer: NaN
BOUND_SHARE = 0.99  # real faces with one attribute that all but always have (or lack) another


@dataclasses.dataclass(frozen=True)
class AttributeReport:
    metrics: dict  # attributes/<measure>/<Name> and attributes/<measure>_mean: floats
    directions: np.ndarray  # [attributes, z_dim] unit vectors; NaN rows for too rare ones
    z: np.ndarray  # [samples, z_dim]: the labelled samples the directions come from
    decisions: np.ndarray  # [samples, attributes]: the ruler's 1/0 on G(z)
    # A conditional generator's faces in the embedding (measure's `embed`), else None: the
    # fresh samples as drawn without a request, [samples, dim], and the same z asked for each
    # attribute absent and present (request_grid), [attributes, 2, samples, dim], NaN for the
    # requests measure's `embedded_requests` left out.
    unasked_features: np.ndarray | None = None
    asked_features: np.ndarray | None = None


def real_images_and_attributes(
    split_uri: str, feature_spec: dict, names: Sequence[str], max_images: int
) -> tuple:
    """uint8 [N, H, W, 3] and int64 [N, attributes] (1/0/-1) of one transformed split."""
    keys = attribute_keys(feature_spec, names)
    spec = {key: feature_spec[key] for key in [IMAGE_KEY] + keys}
    image_batches, label_batches = [], []
    dataset = (
        tf.data.TFRecordDataset(split_files(split_uri), compression_type="GZIP")
        .take(max_images)
        .batch(256)
        .map(lambda records: tf.io.parse_example(records, spec))
    )
    for batch in dataset:
        image_batches.append(pixels.decode_png(batch[IMAGE_KEY]).numpy())
        label_batches.append(np.stack([batch[key].numpy() for key in keys], axis=1))
    return np.concatenate(image_batches), np.concatenate(label_batches)


def mean_difference_directions(z: np.ndarray, decisions: np.ndarray) -> np.ndarray:
    """[attributes, z_dim]: per attribute, mean z where present minus mean z where absent, as a
    unit vector; NaN where either side has fewer than MIN_GROUP samples."""
    directions = np.full((decisions.shape[1], z.shape[1]), np.nan)
    for k in range(decisions.shape[1]):
        present, absent = z[decisions[:, k] == 1], z[decisions[:, k] == 0]
        if min(len(present), len(absent)) >= MIN_GROUP:
            difference = present.mean(axis=0) - absent.mean(axis=0)
            directions[k] = difference / np.linalg.norm(difference)
    return directions


def conditional_direction(direction: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """`direction` without its components along the directions of attributes to keep (their
    span projected out, then normalised): InterFaceGAN's conditional manipulation (Shen et al.
    2020), which moves one attribute while z does not move along the kept ones' directions."""
    if not len(kept):
        return direction
    basis, _ = np.linalg.qr(np.asarray(kept).T)  # orthonormal columns spanning the kept ones
    rest = direction - basis @ (basis.T @ direction)
    return rest / np.linalg.norm(rest)


def conditional_directions(directions: np.ndarray, bound: np.ndarray | None = None) -> np.ndarray:
    """Each direction made conditional on every other attribute's but those `bound` to it
    (bound_attributes: holding blond hair while adding black hair would hold what has to go);
    NaN rows stay NaN."""
    result = np.full_like(directions, np.nan)
    found = np.flatnonzero(np.isfinite(directions).all(axis=1))
    for k in found:
        kept = [j for j in found if j != k and not (bound is not None and bound[k, j])]
        result[k] = conditional_direction(directions[k], directions[kept])
    return result


def bound_attributes(real_labels: np.ndarray) -> np.ndarray:
    """bool [attributes, attributes]: [k, j] when the real faces with attribute k (MIN_GROUP or
    more, j known) have j in at least BOUND_SHARE of them, or lack it in as many: black and
    blond hair, a goatee and No_Beard, Male and lipstick in the built-in set. An edit that adds
    k has to change such a j; it is not changing something else."""
    count = real_labels.shape[1]
    bound = np.zeros((count, count), bool)
    for k in range(count):
        with_k = real_labels[real_labels[:, k] == 1]
        for j in range(count):
            known = with_k[with_k[:, j] >= 0, j]
            if j != k and len(known) >= MIN_GROUP:
                share = known.mean()
                bound[k, j] = share >= BOUND_SHARE or share <= 1.0 - BOUND_SHARE
    return bound


def edit_scores(
    before: np.ndarray, after: np.ndarray, attribute: int, bound: np.ndarray | None = None
) -> tuple:
    """(flip rate, others changed, worst other) of one edit: of the samples without
    `attribute` before, the fraction with it after; of the other attributes, the mean and the
    largest fraction of samples whose decision changed. The others leave out those `bound` (a
    bool row of bound_attributes) ties to the attribute. NaN flip rate when no sample lacked it."""
    lacked = before[:, attribute] == 0
    flip = float((after[lacked, attribute] == 1).mean()) if lacked.any() else float("nan")
    tied = np.zeros(before.shape[1], bool) if bound is None else np.asarray(bound, bool)
    others = [j for j in range(before.shape[1]) if j != attribute and not tied[j]]
    if not others:
        return flip, 0.0, 0.0
    changed = (before[:, others] != after[:, others]).mean(axis=0)
    return flip, float(changed.mean()), float(changed.max())


def code_edit(
    inputs: np.ndarray, z_dim: int, attribute: int, real_labels: np.ndarray, bound: np.ndarray
) -> np.ndarray:
    """A conditional generator's inputs (z, codes) with `attribute` asked present, and each
    attribute real faces tie to it (a bool row of bound_attributes) asked as most real faces
    with it have it: black hair comes with the other hair colours asked absent, a goatee with
    No_Beard absent. The rest of each row, z included, stays: an edit of the request alone."""
    edited = np.array(inputs, np.float32, copy=True)
    edited[:, z_dim + attribute] = conditions.PRESENT
    with_it = real_labels[real_labels[:, attribute] == 1]
    for j in np.flatnonzero(bound):
        known = with_it[with_it[:, j] >= 0, j]
        edited[:, z_dim + j] = conditions.PRESENT if known.mean() >= 0.5 else conditions.ABSENT
    return edited


def edit_grid(z: np.ndarray, direction: np.ndarray, strengths: np.ndarray) -> np.ndarray:
    """[rows * columns, z_dim]: row r is z[r] moved by each strength along `direction`."""
    return (z[:, None, :] + strengths[None, :, None] * direction[None, None, :]).reshape(
        -1, z.shape[1]
    )


def request_grid(z: np.ndarray, table: np.ndarray, seed: int = 0) -> np.ndarray:
    """[attributes * 2 * n, z_dim + attributes]: per attribute, the n `z` asked without it,
    then the same n asked with it; a conditional generator's inputs (conditions.py).

    The other attributes come from real rows of `table` that agree with the request, as the
    export's `sample` fills them in (conditions.matching_rows): no face is asked for a
    combination the data never has, such as two hair colours or a goatee with lipstick, which
    a generator that learned the data's combinations cannot draw."""
    codes = tf.constant(table, tf.float32)
    rows = []
    for k in range(table.shape[1]):
        for code in (conditions.ABSENT, conditions.PRESENT):
            request = np.zeros(table.shape[1], np.float32)
            request[k] = code
            asked = conditions.matching_rows(
                codes, tf.constant(request), len(z), tf.constant([seed, k], tf.int64)
            ).numpy()
            rows.append(np.concatenate([z, asked], axis=1))
    return np.concatenate(rows).astype(np.float32)


def best_edit(metrics: dict, names: Sequence[str]):
    """The attribute whose edit flips the most faces net of the other attributes it changes
    (flip rate minus others changed), for the report's one edit grid; None without any."""
    scores = {
        name: metrics[f"{PREFIX}edit_flip_rate/{name}"]
        - metrics[f"{PREFIX}edit_others_changed/{name}"]
        for name in names
    }
    scores = {name: score for name, score in scores.items() if np.isfinite(score)}
    return max(scores, key=scores.get) if scores else None


def fidelity(decisions: np.ndarray) -> tuple:
    """(on, off) [attributes]: per attribute, the fraction of a conditional generator's faces
    the ruler calls present when asked for it (code +1), and absent when asked for its absence
    (-1). `decisions`: the ruler's 1/0 on request_grid's faces, [attribute asked, (absent,
    present), face, attribute decided]."""
    attribute_count = decisions.shape[0]
    on = np.array([(decisions[k, 1, :, k] == 1).mean() for k in range(attribute_count)])
    off = np.array([(decisions[k, 0, :, k] == 0).mean() for k in range(attribute_count)])
    return on, off


def measure(
    classifier: AttributeClassifier,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    real_labels: np.ndarray,
    generate: Callable[[np.ndarray], np.ndarray],
    z_dim: int,
    num_samples: int,
    strength: float,
    batch_size: int,
    attribute_table: np.ndarray | None = None,
    embed: Callable[[np.ndarray], np.ndarray] | None = None,
    embedded_requests: np.ndarray | None = None,
) -> AttributeReport:
    """Every measure of the module docstring, for one trained classifier and one generator;
    `attribute_table`: a conditional generator's real attribute rows, None otherwise; `embed`
    (uint8 images -> features): for a conditional generator, the features of its fresh faces
    and of its requested ones go into the report too, of the requests `embedded_requests`
    marks (bool [attributes, 2 (absent, present)]; None: all)."""

    def look(z: np.ndarray, embedded_rows: np.ndarray | None = None) -> tuple:
        """The ruler's decisions on G(z), and the features of the faces `embedded_rows` marks
        (bool [len(z)]; None: no features)."""
        decisions, features = [], []
        for i in range(0, len(z), batch_size):
            faces = generate(z[i : i + batch_size])
            decisions.append(classifier.predict(faces))
            if embedded_rows is not None and embedded_rows[i : i + batch_size].any():
                features.append(embed(faces[embedded_rows[i : i + batch_size]]))
        return np.concatenate(decisions), np.concatenate(features) if features else None

    def decide(z: np.ndarray) -> np.ndarray:
        return look(z)[0]

    z = conditions.generator_inputs(num_samples, z_dim, DIRECTION_SEED, attribute_table)
    decisions = decide(z)
    directions = mean_difference_directions(z, decisions)
    fresh = conditions.generator_inputs(num_samples, z_dim, EDIT_SEED, attribute_table)
    embedded = attribute_table is not None and embed is not None
    before, unasked_features = look(fresh, np.ones(len(fresh), bool) if embedded else None)
    bound = bound_attributes(real_labels)
    edits = [
        edit_scores(before, decide((fresh + strength * direction).astype(np.float32)), k, bound[k])
        if np.isfinite(direction).all()
        else (float("nan"),) * 3
        for k, direction in enumerate(directions)
    ]
    per_attribute = {
        "classifier_accuracy": agreement(classifier.predict(test_images), test_labels),
        "classifier_floor": majority_rate(test_labels),
        "real_rate": present_rate(real_labels),
        "generated_rate": present_rate(decisions),
        "edit_flip_rate": np.array([flip for flip, _, _ in edits]),
        "edit_others_changed": np.array([changed for _, changed, _ in edits]),
        "edit_worst_other_changed": np.array([worst for _, _, worst in edits]),
    }
    asked_features = None
    if attribute_table is not None:
        count = attribute_table.shape[1]
        wanted = (
            np.ones((count, 2), bool)
            if embedded_requests is None
            else np.asarray(embedded_requests, bool)
        )
        rows = np.repeat(wanted.reshape(-1), num_samples) if embedded else None  # grid's order
        asked_decisions, features = look(request_grid(fresh[:, :z_dim], attribute_table), rows)
        on, off = fidelity(asked_decisions.reshape(count, 2, num_samples, -1))
        if embedded:
            asked_features = np.full((count, 2, num_samples, unasked_features.shape[1]), np.nan)
            if features is not None:
                asked_features[wanted] = features.reshape(-1, num_samples, features.shape[1])
        per_attribute.update(fidelity_on=on, fidelity_off=off, fidelity=(on + off) / 2)
        code_edits = [
            edit_scores(
                before, decide(code_edit(fresh, z_dim, k, real_labels, bound[k])), k, bound[k]
            )
            for k in range(count)
        ]
        per_attribute.update(
            {
                "code_edit_flip_rate": np.array([flip for flip, _, _ in code_edits]),
                "code_edit_others_changed": np.array([changed for _, changed, _ in code_edits]),
                "code_edit_worst_other_changed": np.array([worst for _, _, worst in code_edits]),
            }
        )
    metrics = {}
    for measure_name, values in per_attribute.items():
        metrics.update(
            {
                f"{PREFIX}{measure_name}/{name}": float(value)
                for name, value in zip(classifier.names, values)
            }
        )
        finite = values[np.isfinite(values)]
        metrics[f"{PREFIX}{measure_name}_mean"] = (
            float(finite.mean()) if finite.size else float("nan")
        )
    if attribute_table is not None:  # the target: >= 0.9 of the ruler's own accuracy
        metrics[f"{PREFIX}fidelity_to_accuracy"] = (
            metrics[f"{PREFIX}fidelity_mean"] / metrics[f"{PREFIX}classifier_accuracy_mean"]
        )
    metrics.update(
        {
            PREFIX + key: value
            for key, value in face_arithmetic.smiling_man_score(
                classifier.names, z, decisions, decide, z_dim
            ).items()
        }
    )
    return AttributeReport(metrics, directions, z, decisions, unasked_features, asked_features)


def evaluate_attributes(
    train: tuple,
    test: tuple,
    names: Sequence[str],
    generate: Callable[[np.ndarray], np.ndarray],
    z_dim: int,
    num_samples: int,
    strength: float,
    batch_size: int,
    classifier_settings: ClassifierSettings = ClassifierSettings(),
    attribute_table: np.ndarray | None = None,
    embed: Callable[[np.ndarray], np.ndarray] | None = None,
    embedded_requests: np.ndarray | None = None,
) -> AttributeReport:
    """Trains the ruler on `train` (images, labels), then measure()s with `test`."""
    classifier = train_classifier(*train, names, classifier_settings)
    return measure(
        classifier,
        *test,
        np.concatenate([train[1], test[1]]),
        generate,
        z_dim,
        num_samples,
        strength,
        batch_size,
        attribute_table,
        embed,
        embedded_requests,
    )
