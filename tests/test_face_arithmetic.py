"""Face arithmetic on labelled samples whose answer is known: concepts are the mean z of the
samples the ruler puts in them, and the paper's example is scored with the ruler."""
import itertools

import numpy as np
import pytest

from components.gan_evaluator import face_arithmetic
from components.gan_evaluator.face_arithmetic import Term

NAMES = ["Smiling", "Male"]


def test_an_expression_is_terms_of_signed_concepts():
    terms = face_arithmetic.parse_expression("Smiling,Male=0 - Smiling=0,Male=0 + Male", NAMES)
    assert terms == [Term(1, {"Smiling": 1, "Male": 0}), Term(-1, {"Smiling": 0, "Male": 0}),
                     Term(1, {"Male": 1})]
    assert [term.label() for term in terms] == ["Smiling,Male=0", "Smiling=0,Male=0", "Male"]
    assert face_arithmetic.parse_expression("-Male", NAMES) == [Term(-1, {"Male": 1})]


@pytest.mark.parametrize("text, message", [
    ("Smiling + Wings", "unknown attribute 'Wings'"),
    ("Smiling=2", "'Smiling=2': an attribute is NAME, NAME=1 or NAME=0"),
    ("  ", "no terms in"),
])
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
    result, members = face_arithmetic.arithmetic(z, decisions, NAMES, terms)
    assert result == pytest.approx([1.0, 1.0], abs=0.02)
    assert [len(m) for m in members] == [5, 5, 5]
    assert (decisions[members[0]] == [1, 0]).all()


def test_a_concept_with_too_few_samples_is_refused_naming_it():
    z, decisions = labelled_samples()
    with pytest.raises(ValueError, match="only 2 of 4 labelled samples are 'Smiling'"):
        face_arithmetic.arithmetic(z[8:12], decisions[8:12], NAMES,
                                   face_arithmetic.parse_expression("Smiling", NAMES))


def test_variations_are_the_result_and_noise_within_the_papers_scale():
    drawn = face_arithmetic.variations(np.zeros(4), 10, seed=1)
    assert drawn.shape == (10, 4) and (drawn[0] == 0).all()
    assert 0 < np.abs(drawn[1:]).max() <= face_arithmetic.VARIATION_SCALE


def test_the_papers_example_is_scored_with_the_ruler_next_to_a_random_face():
    z, decisions = labelled_samples()

    def ruler(points):  # smiling where z0 > 0.5, male where z1 > 0.5
        return (np.asarray(points) > 0.5).astype(int)

    score = face_arithmetic.smiling_man_score(NAMES, z, decisions, ruler)
    assert score == {"arithmetic/smiling_man": 1.0, "arithmetic/smiling_man_spread": 0.0,
                     "arithmetic/smiling_man_floor": 0.25}
    assert face_arithmetic.smiling_man_score(["Smiling"], z, decisions[:, :1], ruler) == {}


def test_the_score_averages_three_exemplars_per_concept_over_draws_with_their_spread():
    """Concepts spread wide, so that which three exemplars are drawn decides the result:
    the draws differ, and the score is their mean with its standard deviation."""
    rng = np.random.default_rng(3)
    decisions = np.array([(s, m) for s in (0, 1) for m in (0, 1) for _ in range(30)])
    z = decisions + rng.normal(0, 0.6, decisions.shape)
    terms = face_arithmetic.parse_expression(face_arithmetic.SMILING_MAN, NAMES)
    members = [face_arithmetic.concept_members(decisions, NAMES, term) for term in terms]
    results = [face_arithmetic.exemplar_arithmetic(z, members, terms, seed) for seed in (0, 1)]
    assert not np.allclose(results[0], results[1])
    picked = face_arithmetic.exemplar_arithmetic(z, members, terms[:1], 0)  # one concept
    assert any(np.allclose(picked, z[list(trio)].mean(axis=0))
               for trio in itertools.combinations(members[0], 3))

    def ruler(points):
        return (np.asarray(points) > 0.5).astype(int)

    seen = []

    def deciding(points):
        seen.append(ruler(points))
        return seen[-1]

    score = face_arithmetic.smiling_man_score(NAMES, z, decisions, deciding)
    per_draw = [float((d == 1).all(axis=1).mean()) for d in seen]
    assert len(per_draw) == face_arithmetic.ARITHMETIC_SEEDS
    assert score["arithmetic/smiling_man"] == pytest.approx(np.mean(per_draw))
    assert score["arithmetic/smiling_man_spread"] == pytest.approx(np.std(per_draw))


def test_the_summary_says_the_score_next_to_random_faces_or_why_there_is_none():
    from components.gan_evaluator.results import arithmetic_line
    key = "attributes/arithmetic/smiling_man"
    assert arithmetic_line({key: 0.42, key + "_floor": 0.1}) == (
        "Face arithmetic, smiling woman - neutral woman + neutral man: the ruler sees a smiling "
        "man in 0.42 of the result's variations; in 0.10 of random faces.")
    assert arithmetic_line({key: 0.42, key + "_spread": 0.05, key + "_floor": 0.1}).startswith(
        "Face arithmetic, smiling woman - neutral woman + neutral man: the ruler sees a smiling "
        "man in 0.42 of the result's variations (three exemplars per concept, 3 draws: mean, "
        "spread 0.05)")
    assert "not scored (a concept had too few samples)" in arithmetic_line(
        {key: float("nan"), key + "_floor": 0.1})
    assert arithmetic_line({}) == ""
