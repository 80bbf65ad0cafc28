"""The attribute measures, each on inputs whose answer is known: a generator whose brightness
follows z[0] and a ruler that calls bright faces 'present' must give z[0] as the direction and
an edit along it that flips nearly every dark face and nothing else."""

import numpy as np
import pytest
import tf_keras as keras

from components.gan_evaluator import attributes
from components.gan_evaluator.attribute_classifier import AttributeClassifier

Z_DIM = 8


def brightness_of_z0(z: np.ndarray) -> np.ndarray:
    """uint8 [N, 16, 16, 3], every pixel 128 + 40 * z[0] (clipped)."""
    level = np.clip(128 + 40 * z[:, 0], 0, 255).astype(np.uint8)
    return np.broadcast_to(level[:, None, None, None], (len(z), 16, 16, 3)).copy()


def bright_and_always_ruler() -> AttributeClassifier:
    """A Keras model with set weights: 'Bright' when the mean level is over 128; 'Always'
    whatever the image."""
    inputs = keras.Input((16, 16, 3))
    mean = keras.layers.GlobalAveragePooling2D()(inputs)
    logits = keras.layers.Dense(2)(mean)
    model = keras.Model(inputs, logits)
    model.layers[-1].set_weights([np.array([[1.0, 0.0]] * 3) / 3, np.array([-128.0, 10.0])])
    return AttributeClassifier(model, ["Bright", "Always"])


def test_the_direction_of_an_attribute_that_follows_z0_is_z0():
    z = np.random.default_rng(0).normal(size=(2000, Z_DIM))
    decisions = np.stack([(z[:, 0] > 0), np.ones(2000, bool)], axis=1).astype(np.int64)
    directions = attributes.mean_difference_directions(z, decisions)
    assert directions[0] @ np.eye(Z_DIM)[0] > 0.99 and np.linalg.norm(
        directions[0]
    ) == pytest.approx(1.0)
    assert np.isnan(directions[1]).all()  # never absent: no direction


def test_a_conditional_direction_is_orthogonal_to_the_others_and_keeps_its_own_part():
    rng = np.random.default_rng(2)
    directions = rng.normal(size=(4, Z_DIM))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    directions[3] = np.nan  # an attribute without a direction is left out, and stays NaN
    conditional = attributes.conditional_directions(directions)
    for k in range(3):
        others = [j for j in range(3) if j != k]
        assert np.abs(directions[others] @ conditional[k]).max() < 1e-9
        assert conditional[k] @ directions[k] > 0 and np.linalg.norm(
            conditional[k]
        ) == pytest.approx(1.0)
    assert np.isnan(conditional[3]).all()
    assert np.array_equal(attributes.conditional_direction(directions[0], []), directions[0])
    bound = np.zeros((4, 4), bool)
    bound[0, 1] = True  # attribute 1 has to change with 0: not held
    unbound = attributes.conditional_directions(directions, bound)
    assert abs(directions[2] @ unbound[0]) < 1e-9 and abs(directions[1] @ unbound[0]) > 1e-3
    np.testing.assert_allclose(unbound[1:3], conditional[1:3])


def test_edit_scores_count_flips_among_those_without_and_changes_among_the_others():
    before = np.array([[0, 1, 0], [0, 0, 0], [1, 1, 1], [0, 1, 1]])
    after = np.array([[1, 1, 0], [0, 0, 1], [1, 1, 1], [1, 1, 1]])
    flip, changed, worst = attributes.edit_scores(before, after, attribute=0)
    assert flip == pytest.approx(2 / 3)  # rows 0, 1, 3 lacked it; 0 and 3 have it after
    assert changed == pytest.approx(1 / 8)  # one of the 8 other decisions (row 1, column 2)
    assert worst == pytest.approx(1 / 4)  # column 2: one of 4 samples changed, column 1: none
    assert np.isnan(attributes.edit_scores(np.ones((2, 2)), np.ones((2, 2)), 0)[0])
    # column 2 tied to the edited attribute by the real faces: only column 1 is "other"
    assert attributes.edit_scores(before, after, 0, np.array([False, False, True]))[1:] == (0, 0)


def test_attributes_real_faces_tie_together_are_bound():
    """One hair colour per face, facial hair on men only, smiles anywhere."""
    rng = np.random.default_rng(0)
    hair = rng.integers(0, 2, 400)  # black (1) or blond (0)
    male = rng.integers(0, 2, 400)
    goatee = male & rng.integers(0, 2, 400)
    labels = np.stack([hair, 1 - hair, male, goatee, rng.integers(0, 2, 400)], axis=1)
    labels[0, 4] = -1  # an unknown label counts for neither side
    bound = attributes.bound_attributes(labels)
    assert bound[0, 1] and bound[1, 0]  # black hair comes, blond hair goes (and back)
    assert bound[3, 2] and not bound[2, 3]  # a goatee makes a man; a man may have none
    assert not bound[:, 4].any() and not bound[4].any()  # smiling goes with anything
    assert not np.diag(bound).any()


def test_measure_finds_the_direction_and_an_edit_along_it_flips_only_that_attribute():
    ruler = bright_and_always_ruler()
    test_images = brightness_of_z0(np.array([[1.0] + [0] * 7, [-1.0] + [0] * 7]))
    test_labels = np.array([[1, 1], [0, -1]])
    report = attributes.measure(
        ruler,
        test_images,
        test_labels,
        test_labels,
        brightness_of_z0,
        Z_DIM,
        num_samples=500,
        strength=3.0,
        batch_size=100,
    )
    m = report.metrics
    assert report.directions[0] @ np.eye(Z_DIM)[0] > 0.95
    assert m["attributes/edit_flip_rate/Bright"] > 0.97  # z0 < 0 and z0 + 3 > 0: nearly all
    assert m["attributes/edit_others_changed/Bright"] == 0.0
    assert m["attributes/edit_worst_other_changed/Bright"] == 0.0
    assert m["attributes/generated_rate/Bright"] == pytest.approx(0.5, abs=0.07)
    assert m["attributes/generated_rate/Always"] == 1.0
    assert np.isnan(m["attributes/edit_flip_rate/Always"])  # no direction: not measured
    assert m["attributes/classifier_accuracy/Bright"] == 1.0
    assert m["attributes/classifier_accuracy/Always"] == 1.0  # the unknown label left out
    assert m["attributes/real_rate/Bright"] == 0.5
    assert m["attributes/edit_flip_rate_mean"] == m["attributes/edit_flip_rate/Bright"]


def test_an_edit_grid_moves_each_row_along_the_direction_by_each_strength():
    z = np.array([[0.0, 0.0], [1.0, 1.0]])
    grid = attributes.edit_grid(z, np.array([1.0, 0.0]), np.array([0.0, 1.5, 3.0]))
    assert grid.tolist() == [[0, 0], [1.5, 0], [3, 0], [1, 1], [2.5, 1], [4, 1]]


def test_the_report_shows_the_edit_that_flips_most_net_of_what_else_it_changes():
    metrics = {
        "attributes/edit_flip_rate/A": 0.9,
        "attributes/edit_others_changed/A": 0.3,
        "attributes/edit_flip_rate/B": 0.8,
        "attributes/edit_others_changed/B": 0.05,
        "attributes/edit_flip_rate/C": float("nan"),
        "attributes/edit_others_changed/C": float("nan"),
    }
    assert attributes.best_edit(metrics, ["A", "B", "C"]) == "B"
    assert attributes.best_edit(metrics, ["C"]) is None


def brightness_of_bright_code(inputs: np.ndarray) -> np.ndarray:
    """A conditional generator that obeys: brightness 128 + 40 * the 'Bright' code (the input
    after z), slightly varied by z[0]."""
    return brightness_of_z0(
        np.concatenate(
            [inputs[:, Z_DIM : Z_DIM + 1] + 0.1 * inputs[:, :1], inputs[:, 1:Z_DIM]], axis=1
        )
    )


@pytest.mark.parametrize(
    "generate, expected",
    [
        (brightness_of_bright_code, {"on": 1.0, "off": 1.0}),  # obeys the request
        (brightness_of_z0, {"on": 0.5, "off": 0.5}),  # ignores it: z alone decides
    ],
)
def test_fidelity_is_how_often_the_ruler_sees_what_was_asked(generate, expected):
    ruler = bright_and_always_ruler()
    table = np.array([[1.0, 1.0], [-1.0, 1.0]], np.float32)  # real rows: Bright or not
    test_images = brightness_of_z0(np.array([[1.0] + [0] * 7, [-1.0] + [0] * 7]))
    labels = np.array([[1, 1], [0, 1]])
    report = attributes.measure(
        ruler,
        test_images,
        labels,
        labels,
        generate,
        Z_DIM,
        num_samples=400,
        strength=3.0,
        batch_size=100,
        attribute_table=table,
    )
    m = report.metrics
    assert report.z.shape == (400, Z_DIM + 2)  # the labelled samples' whole inputs
    for side in ("on", "off"):
        assert m[f"attributes/fidelity_{side}/Bright"] == pytest.approx(expected[side], abs=0.08)
    assert m["attributes/fidelity_on/Always"] == 1.0 and m["attributes/fidelity_off/Always"] == 0.0
    assert m["attributes/fidelity_to_accuracy"] == pytest.approx(
        m["attributes/fidelity_mean"] / m["attributes/classifier_accuracy_mean"]
    )


def test_the_faces_asked_for_fidelity_are_embedded_as_they_are_drawn():
    """Given an embedding, measure() hands the quality per condition the same faces the ruler
    judged, each drawn once: the asked-present faces of an obedient generator are bright, the
    asked-absent ones dark, and the unasked ones both. Requests left out are not embedded."""
    drawn, embedded = [], []

    def generate(inputs: np.ndarray) -> np.ndarray:
        drawn.append(len(inputs))
        return brightness_of_bright_code(inputs)

    def embed(images: np.ndarray) -> np.ndarray:
        embedded.append(len(images))
        return images.mean(axis=(1, 2, 3))[:, None]

    table = np.array([[1.0, 1.0], [-1.0, 1.0]], np.float32)
    labels = np.array([[1, 1], [0, 1]])
    report = attributes.measure(
        bright_and_always_ruler(),
        brightness_of_z0(np.eye(2, 8)),
        labels,
        labels,
        generate,
        Z_DIM,
        num_samples=200,
        strength=3.0,
        batch_size=100,
        attribute_table=table,
        embed=embed,
        embedded_requests=np.array([[True, True], [False, False]]),
    )
    assert report.asked_features.shape == (2, 2, 200, 1)  # [attribute, (absent, present), face]
    bright = report.asked_features[0, :, :, 0]
    assert (bright[1] > 150).all() and (bright[0] < 106).all()
    assert np.isnan(report.asked_features[1]).all()  # 'Always' left out
    assert sum(embedded) == 200 + 2 * 200  # the unasked faces and Bright's two requests
    assert report.unasked_features.shape == (200, 1)
    assert 0.3 < (report.unasked_features[:, 0] > 128).mean() < 0.7
    # labelled samples, fresh ones, one edit per direction found, the request grid, one code
    # edit per attribute: no more
    directions = int(np.isfinite(report.directions).all(axis=1).sum())
    assert directions == 1  # Bright's; 'Always' has no absent side
    assert sum(drawn) == 200 * (2 + directions + 2 * 2 + 2)


def bright_unless_the_second_code_is_present(inputs: np.ndarray) -> np.ndarray:
    """A conditional generator that learned the data's combinations: in its data 'Bright' never
    comes with the second attribute, so asked for both it draws a dark face."""
    bright = np.where(inputs[:, Z_DIM + 1] > 0, -1.0, inputs[:, Z_DIM])
    return brightness_of_z0(
        np.concatenate([bright[:, None] + 0.1 * inputs[:, :1], inputs[:, 1:Z_DIM]], axis=1)
    )


def test_fidelity_asks_only_for_combinations_the_real_rows_have():
    """The real rows have 'Bright' or the second attribute, never both (as a face has one hair
    colour): asked for Bright, the other attributes come from rows that have it, so a generator
    that follows the data obeys every request (forcing Bright onto any real row would ask for
    both in half the faces)."""
    table = np.array([[1.0, -1.0], [-1.0, 1.0]], np.float32)
    z = np.random.default_rng(2).normal(size=(300, Z_DIM)).astype(np.float32)
    asked = attributes.request_grid(z, table).reshape(2, 2, 300, Z_DIM + 2)
    np.testing.assert_array_equal(asked[0, 1, :, Z_DIM:], np.tile([1.0, -1.0], (300, 1)))
    np.testing.assert_array_equal(asked[0, 0, :, Z_DIM:], np.tile([-1.0, 1.0], (300, 1)))
    np.testing.assert_array_equal(asked[0, 1, :, :Z_DIM], z)  # the same z for every request

    ruler = bright_and_always_ruler()

    def decide(inputs):
        return ruler.predict(bright_unless_the_second_code_is_present(inputs))

    on, off = attributes.fidelity(decide(asked.reshape(-1, Z_DIM + 2)).reshape(2, 2, 300, -1))
    assert on[0] == 1.0 and off[0] == 1.0


def test_a_code_edit_asks_for_the_attribute_and_for_what_real_faces_tie_to_it():
    """Asked for black hair, the other hair colour is asked absent (every real face with
    black hair lacks it); z and the untied codes stay."""
    real = np.array([[1, 0, 1], [1, 0, 0], [0, 1, 1], [0, 1, 0]] * 5)  # Black, Blond, Smiling
    bound = attributes.bound_attributes(real)
    assert bound[0].tolist() == [False, True, False]
    inputs = np.array([[0.5, -1.0, 1.0, -1.0], [0.2, -1.0, 1.0, 1.0]], np.float32)  # z_dim 1
    edited = attributes.code_edit(inputs, 1, 0, real, bound[0])
    np.testing.assert_array_equal(edited, np.array([[0.5, 1, -1, -1], [0.2, 1, -1, 1]], np.float32))
    np.testing.assert_array_equal(inputs[:, 1], [-1.0, -1.0])  # the inputs are left alone


def test_an_obedient_generators_code_edit_flips_its_attribute_and_nothing_else():
    table = np.array([[1.0, 1.0], [-1.0, 1.0]], np.float32)
    labels = np.array([[1, 1], [0, 1]])
    metrics = attributes.measure(
        bright_and_always_ruler(),
        brightness_of_z0(np.eye(2, 8)),
        labels,
        labels,
        brightness_of_bright_code,
        Z_DIM,
        num_samples=200,
        strength=3.0,
        batch_size=100,
        attribute_table=table,
    ).metrics
    assert metrics["attributes/code_edit_flip_rate/Bright"] == 1.0
    assert metrics["attributes/code_edit_others_changed/Bright"] == 0.0
    ignoring = attributes.measure(
        bright_and_always_ruler(),
        brightness_of_z0(np.eye(2, 8)),
        labels,
        labels,
        brightness_of_z0,
        Z_DIM,
        num_samples=200,
        strength=3.0,
        batch_size=100,
        attribute_table=table,
    ).metrics
    assert ignoring["attributes/code_edit_flip_rate/Bright"] == 0.0  # z alone decides
