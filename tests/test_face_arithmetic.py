"""Face arithmetic on labelled samples whose answer is known: concepts are the mean z of the
samples the ruler puts in them, and the paper's example is scored with the ruler."""

import numpy as np
import pytest

from components.gan_evaluator import face_arithmetic
from components.gan_evaluator.face_arithmetic import Term

NAMES = ["Smiling", "Male"]


def test_an_expression_is_terms_of_signed_concepts():
    terms = face_arithmetic.parse_expression("Smiling,Male=0 - Smiling=0,Male=0 + Male", NAMES)
    assert terms == [
        Term(1, {"Smiling": 1, "Male": 0}),
        Term(-1, {"Smiling": 0, "Male": 0}),
        Term(1, {"Male": 1}),
    ]
    assert [term.label() for term in terms] == ["Smiling,Male=0", "Smiling=0,Male=0", "Male"]
    assert face_arithmetic.parse_expression("-Male", NAMES) == [Term(-1, {"Male": 1})]


@pytest.mark.parametrize(
    "text, message",
    [
        ("Smiling + Wings", "unknown attribute 'Wings'"),
        ("Smiling=2", "'Smiling=2': an attribute is NAME, NAME=1 or NAME=0"),
        ("  ", "no terms in"),
    ],
)
def test_a_bad_expression_says_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        face_arithmetic.parse_expression(text, NAMES)


def labelled_samples():
    """z [4 concepts x 5 samples, 2]: each (Smiling, Male) concept sits around its own point,
    Smiling adds (1, 0) and Male (0, 1) to z."""
    rng = np.random.default_rng(0)
    decisions = np.array([(s, m) for s in (0, 1) for m in (0, 1) for _ in range(5)])
    z = decisions.astype(float) + rng.normal(0, 0.01, decisions.shape)
    return z, decisions


def test_smiling_woman_minus_woman_plus_man_lands_on_smiling_men():
    z, decisions = labelled_samples()
    terms = face_arithmetic.parse_expression(face_arithmetic.SMILING_MAN, NAMES)
    result, members = face_arithmetic.arithmetic(z, decisions, NAMES, terms, z_dim=2)
    # (1, 1) in direction, at the samples' mean norm (the norm of a typical z)
    typical = np.linalg.norm(z, axis=1).mean()
    assert result == pytest.approx(np.array([1.0, 1.0]) / np.sqrt(2) * typical, abs=0.02)
    assert [len(m) for m in members] == [5, 5, 5]
    assert (decisions[members[0]] == [1, 0]).all()


def test_a_concept_with_too_few_samples_is_refused_naming_it():
    z, decisions = labelled_samples()
    with pytest.raises(ValueError, match="only 2 of 4 labelled samples are 'Smiling'"):
        face_arithmetic.arithmetic(
            z[8:12], decisions[8:12], NAMES, face_arithmetic.parse_expression("Smiling", NAMES), 2
        )


def test_variations_are_the_result_and_noise_within_the_papers_scale():
    drawn = face_arithmetic.variations(np.zeros(4), 10, seed=1)
    assert drawn.shape == (10, 4) and (drawn[0] == 0).all()
    assert 0 < np.abs(drawn[1:]).max() <= face_arithmetic.VARIATION_SCALE


def test_the_papers_example_is_scored_with_the_ruler_next_to_a_random_face():
    z, decisions = labelled_samples()

    def ruler(points):  # smiling where z0 > 0.3, male where z1 > 0.3
        return (np.asarray(points) > 0.3).astype(int)

    z, decisions = np.tile(z, (6, 1)), np.tile(decisions, (6, 1))  # every part holds concepts
    score = face_arithmetic.smiling_man_score(NAMES, z, decisions, ruler, 2)
    assert score == {
        "arithmetic/smiling_man": 1.0,
        "arithmetic/smiling_man_spread": 0.0,
        "arithmetic/smiling_man_floor": 0.25,
    }
    assert face_arithmetic.smiling_man_score(["Smiling"], z, decisions[:, :1], ruler, 2) == {}


def test_the_result_keeps_a_typical_norm_and_a_conditional_models_codes():
    """A mean of many z is short (the average face): the latent part of the result is scaled to
    the samples' mean norm, in the same direction; the codes after z_dim stay as summed."""
    rng = np.random.default_rng(1)
    decisions = np.array([(s, m) for s in (0, 1) for m in (0, 1) for _ in range(50)])
    latent = rng.normal(0, 1, (len(decisions), 8)) + 0.3 * decisions[:, :1]
    z = np.concatenate([latent, 2.0 * decisions - 1], axis=1)  # codes +-1 after z_dim = 8
    terms = face_arithmetic.parse_expression(face_arithmetic.SMILING_MAN, NAMES)
    result, members = face_arithmetic.arithmetic(z, decisions, NAMES, terms, z_dim=8)
    plain = sum(t.sign * z[m].mean(axis=0) for t, m in zip(terms, members))
    assert np.linalg.norm(plain[:8]) < 0.5 * np.linalg.norm(latent, axis=1).mean()
    assert np.linalg.norm(result[:8]) == pytest.approx(np.linalg.norm(latent, axis=1).mean())
    assert result[:8] / np.linalg.norm(result[:8]) == pytest.approx(
        plain[:8] / np.linalg.norm(plain[:8])
    )
    assert result[8:] == pytest.approx([1.0, 1.0])  # smiling, male


def test_the_score_is_the_mean_over_disjoint_parts_with_its_spread():
    """Concepts spread wide, so that each part's result differs: the score is the mean of the
    parts' shares with their standard deviation, each part scored on its own samples."""
    rng = np.random.default_rng(3)
    decisions = np.array([(s, m) for s in (0, 1) for m in (0, 1) for _ in range(30)])
    z = decisions + rng.normal(0, 0.6, decisions.shape)

    def ruler(points):
        return (np.asarray(points) > 0.5).astype(int)

    asked, seen = [], []

    def deciding(points):
        asked.append(np.asarray(points))
        seen.append(ruler(points))
        return seen[-1]

    score = face_arithmetic.smiling_man_score(NAMES, z, decisions, deciding, 2)
    per_part = [float((d == 1).all(axis=1).mean()) for d in seen]
    assert len(per_part) == face_arithmetic.ARITHMETIC_PARTS
    assert score["arithmetic/smiling_man"] == pytest.approx(np.mean(per_part))
    assert score["arithmetic/smiling_man_spread"] == pytest.approx(np.std(per_part))
    # Each call drew one part's own result (its first row, before the noise) ...
    parts = np.array_split(
        np.random.default_rng(face_arithmetic.ARITHMETIC_SEED).permutation(len(z)),
        face_arithmetic.ARITHMETIC_PARTS,
    )
    assert sorted(np.concatenate(parts).tolist()) == list(range(len(z)))  # disjoint, all used
    terms = face_arithmetic.parse_expression(face_arithmetic.SMILING_MAN, NAMES)
    own = [
        face_arithmetic.arithmetic(z[part], decisions[part], NAMES, terms, 2)[0] for part in parts
    ]
    assert [points[0] for points in asked] == [pytest.approx(result) for result in own]
    assert not np.allclose(own[0], own[1])  # ... and the parts' results differ


def test_the_summary_says_the_score_next_to_random_faces_or_why_there_is_none():
    from components.gan_evaluator.results import arithmetic_line

    key = "attributes/arithmetic/smiling_man"
    assert arithmetic_line({key: 0.42, key + "_floor": 0.1}) == (
        "Face arithmetic, smiling woman - neutral woman + neutral man: the ruler sees a smiling "
        "man in 0.42 of the result's variations; in 0.10 of random faces."
    )
    assert arithmetic_line({key: 0.42, key + "_spread": 0.05, key + "_floor": 0.1}).startswith(
        "Face arithmetic, smiling woman - neutral woman + neutral man: the ruler sees a smiling "
        "man in 0.42 of the result's variations (mean over 3 disjoint parts of the labelled "
        "samples, spread 0.05)"
    )
    assert "not scored (a concept had too few samples)" in arithmetic_line(
        {key: float("nan"), key + "_floor": 0.1}
    )
    assert arithmetic_line({}) == ""
