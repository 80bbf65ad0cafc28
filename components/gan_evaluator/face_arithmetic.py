"""Vector arithmetic on faces (Radford et al. 2015, section 6.3), automated and scored.

Each term of an expression is a concept: faces with some attributes present and others absent,
e.g. "Smiling,Male=0" (a smiling woman). For `dcgan-faces arithmetic` its z is the mean z of the
labelled samples the attribute ruler puts in it; the evaluator's score averages three exemplars
per concept, as the paper did by hand, drawn three times (mean and spread). The result is
the signed sum of the terms' z, drawn with variations (uniform noise added, as in the paper).
The evaluator scores the paper's own example with the ruler; `dcgan-faces arithmetic` draws any
expression from the labelled samples the evaluator kept.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Callable, Sequence

import numpy as np

# The paper's example, which the evaluator scores when both attributes are configured.
SMILING_MAN = "Smiling,Male=0 - Smiling=0,Male=0 + Smiling=0,Male"
MIN_CONCEPT = 3  # samples a concept needs, as the paper's three exemplars
VARIATION_SCALE = 0.25  # uniform noise added to a result's z for its variations, as the paper
ARITHMETIC_SAMPLES, ARITHMETIC_SEED = 100, 2468  # variations of the example's result scored
ARITHMETIC_SEEDS = 3  # the evaluator's score: the mean over this many draws of exemplars


@dataclasses.dataclass(frozen=True)
class Term:
    sign: int  # +1 or -1
    conditions: dict  # attribute name -> 1 (present) or 0 (absent)

    def label(self) -> str:
        return ",".join(name if value else f"{name}=0" for name, value in self.conditions.items())


def parse_expression(text: str, names: Sequence[str]) -> list:
    """'Smiling,Male=0 - Smiling=0,Male=0 + Male' -> [Term]; ValueError naming what is wrong."""
    terms, sign = [], 1
    for token in re.split(r"\s*([+-])\s*", text.strip()):
        if token in ("+", "-"):
            sign = 1 if token == "+" else -1
            continue
        if not token:
            continue
        conditions = {}
        for condition in token.split(","):
            name, _, value = condition.strip().partition("=")
            if name not in names:
                raise ValueError(f"unknown attribute {name!r} in {text!r}; known: "
                                 f"{', '.join(names)}")
            if value not in ("", "1", "0"):
                raise ValueError(f"{condition.strip()!r}: an attribute is NAME, NAME=1 or NAME=0")
            conditions[name] = 0 if value == "0" else 1
        terms.append(Term(sign, conditions))
        sign = 1
    if not terms:
        raise ValueError(f"no terms in {text!r}; e.g. {SMILING_MAN!r}")
    return terms


def concept_members(decisions: np.ndarray, names: Sequence[str], term: Term) -> np.ndarray:
    """Indices of the samples the ruler puts in the term's concept."""
    columns = [list(names).index(name) for name in term.conditions]
    wanted = np.array(list(term.conditions.values()))
    return np.flatnonzero((decisions[:, columns] == wanted).all(axis=1))


def arithmetic(z: np.ndarray, decisions: np.ndarray, names: Sequence[str], terms: list) -> tuple:
    """(the result's z, [members of each term]): the signed sum of the concepts' mean z.
    ValueError when a concept has fewer than MIN_CONCEPT samples."""
    members = [concept_members(decisions, names, term) for term in terms]
    for term, found in zip(terms, members):
        if len(found) < MIN_CONCEPT:
            raise ValueError(f"only {len(found)} of {len(z)} labelled samples are "
                             f"{term.label()!r}; a concept needs {MIN_CONCEPT}")
    result = sum(term.sign * z[found].mean(axis=0) for term, found in zip(terms, members))
    return result, members


def exemplar_arithmetic(z: np.ndarray, members: list, terms: list, seed: int) -> np.ndarray:
    """The result's z from MIN_CONCEPT exemplars per concept drawn with `seed` (the paper
    averaged three it picked per concept): a mean of three z keeps most of a face's norm and
    its individual look, where the mean of every member shrinks towards the average face."""
    rng = np.random.default_rng(seed)
    return sum(term.sign * z[rng.choice(found, MIN_CONCEPT, replace=False)].mean(axis=0)
               for term, found in zip(terms, members))


def variations(result: np.ndarray, count: int, seed: int) -> np.ndarray:
    """[count, z_dim]: the result and count - 1 others, uniform noise of VARIATION_SCALE added."""
    noise = np.random.default_rng(seed).uniform(-VARIATION_SCALE, VARIATION_SCALE,
                                                (count - 1, len(result)))
    return np.concatenate([result[None], result[None] + noise]).astype(np.float32)


def smiling_man_score(names: Sequence[str], z: np.ndarray, decisions: np.ndarray,
                      decide: Callable[[np.ndarray], np.ndarray]) -> dict:
    """The paper's example, scored: of ARITHMETIC_SAMPLES variations of smiling woman - neutral
    woman + neutral man, built from three exemplars per concept, the share the ruler calls
    smiling and male, for ARITHMETIC_SEEDS draws of the exemplars; their mean and standard
    deviation, and next to them the share of all samples that are smiling men (what a random
    face scores). Nothing without both attributes; NaN when a concept is too rare. Keys:
    arithmetic/smiling_man, arithmetic/smiling_man_spread and arithmetic/smiling_man_floor."""
    if not {"Smiling", "Male"} <= set(names):
        return {}
    both = [list(names).index("Smiling"), list(names).index("Male")]
    floor = float((decisions[:, both] == 1).all(axis=1).mean())
    terms = parse_expression(SMILING_MAN, names)
    try:
        _, members = arithmetic(z, decisions, names, terms)
    except ValueError:
        return {"arithmetic/smiling_man": float("nan"),
                "arithmetic/smiling_man_spread": float("nan"),
                "arithmetic/smiling_man_floor": floor}
    scores = []
    for seed in range(ARITHMETIC_SEEDS):
        result = exemplar_arithmetic(z, members, terms, ARITHMETIC_SEED + seed)
        drawn = decide(variations(result, ARITHMETIC_SAMPLES, ARITHMETIC_SEED + seed))
        scores.append(float((drawn[:, both] == 1).all(axis=1).mean()))
    return {"arithmetic/smiling_man": float(np.mean(scores)),
            "arithmetic/smiling_man_spread": float(np.std(scores)),
            "arithmetic/smiling_man_floor": floor}
