"""Vector arithmetic on faces (Radford et al. 2015, section 6.3), automated and scored.

Each term of an expression is a concept: faces with some attributes present and others absent,
e.g. "Smiling,Male=0" (a smiling woman). Its z is the mean z of the labelled samples the
attribute ruler puts in it. The result is the signed sum of the terms' z, rescaled to the norm
of a typical z (norm-preserving: a mean of many z shrinks towards the origin, the average face),
drawn with variations (uniform noise added, as in the paper). The paper averaged three exemplars
per concept, picked by hand; drawn at random, three exemplars made the score swing between 0
and 1 from draw to draw (docs/attributes.md), so every member counts here.

The evaluator scores the paper's own example with the ruler on each of three disjoint thirds of
the labelled samples (mean and spread); `dcgan-faces arithmetic` draws any expression from all
the labelled samples the evaluator kept.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

import numpy as np

# The paper's example, which the evaluator scores when both attributes are configured.
SMILING_MAN = "Smiling,Male=0 - Smiling=0,Male=0 + Smiling=0,Male"
MIN_CONCEPT = 3  # samples a concept needs, as the paper's three exemplars
VARIATION_SCALE = 0.25  # uniform noise added to a result's z for its variations, as the paper
ARITHMETIC_SAMPLES, ARITHMETIC_SEED = 100, 2468  # variations of the example's result scored
ARITHMETIC_PARTS = 3  # the evaluator's score: the mean over this many disjoint parts


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
                raise ValueError(
                    f"unknown attribute {name!r} in {text!r}; known: {', '.join(names)}"
                )
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


def arithmetic(
    z: np.ndarray, decisions: np.ndarray, names: Sequence[str], terms: list, z_dim: int
) -> tuple:
    """(the result's z, [members of each term]): the signed sum of the concepts' mean z, its
    first z_dim values (the latent part; a conditional generator's codes follow them and stay
    as they are) rescaled to the samples' mean latent norm. ValueError when a concept has fewer
    than MIN_CONCEPT samples."""
    members = [concept_members(decisions, names, term) for term in terms]
    for term, found in zip(terms, members):
        if len(found) < MIN_CONCEPT:
            raise ValueError(
                f"only {len(found)} of {len(z)} labelled samples are "
                f"{term.label()!r}; a concept needs {MIN_CONCEPT}"
            )
    result = sum(term.sign * z[found].mean(axis=0) for term, found in zip(terms, members))
    return norm_preserved(result, np.linalg.norm(z[:, :z_dim], axis=1).mean(), z_dim), members


def norm_preserved(result: np.ndarray, norm: float, z_dim: int) -> np.ndarray:
    """`result` with its latent part scaled to `norm` (unchanged when that part is zero)."""
    latent = np.linalg.norm(result[:z_dim])
    scaled = np.array(result, dtype=np.float64)
    if latent > 0:
        scaled[:z_dim] *= norm / latent
    return scaled


def variations(result: np.ndarray, count: int, seed: int) -> np.ndarray:
    """[count, z_dim]: the result and count - 1 others, uniform noise of VARIATION_SCALE added."""
    noise = np.random.default_rng(seed).uniform(
        -VARIATION_SCALE, VARIATION_SCALE, (count - 1, len(result))
    )
    return np.concatenate([result[None], result[None] + noise]).astype(np.float32)


def smiling_man_score(
    names: Sequence[str],
    z: np.ndarray,
    decisions: np.ndarray,
    decide: Callable[[np.ndarray], np.ndarray],
    z_dim: int,
) -> dict:
    """The paper's example, scored: of ARITHMETIC_SAMPLES variations of smiling woman - neutral
    woman + neutral man, the share the ruler calls smiling and male, on each of
    ARITHMETIC_PARTS disjoint parts of the labelled samples (drawn with ARITHMETIC_SEED); their
    mean and standard deviation, and next to them the share of all samples that are smiling men
    (what a random face scores). Nothing without both attributes; NaN when a concept is too rare
    in a part. Keys: arithmetic/smiling_man, arithmetic/smiling_man_spread and
    arithmetic/smiling_man_floor."""
    if not {"Smiling", "Male"} <= set(names):
        return {}
    both = [list(names).index("Smiling"), list(names).index("Male")]
    floor = float((decisions[:, both] == 1).all(axis=1).mean())
    terms = parse_expression(SMILING_MAN, names)
    parts = np.array_split(
        np.random.default_rng(ARITHMETIC_SEED).permutation(len(z)), ARITHMETIC_PARTS
    )
    scores = []
    for number, part in enumerate(parts):
        try:
            result, _ = arithmetic(z[part], decisions[part], names, terms, z_dim)
        except ValueError:
            return {
                "arithmetic/smiling_man": float("nan"),
                "arithmetic/smiling_man_spread": float("nan"),
                "arithmetic/smiling_man_floor": floor,
            }
        drawn = decide(variations(result, ARITHMETIC_SAMPLES, ARITHMETIC_SEED + number))
        scores.append(float((drawn[:, both] == 1).all(axis=1).mean()))
    return {
        "arithmetic/smiling_man": float(np.mean(scores)),
        "arithmetic/smiling_man_spread": float(np.std(scores)),
        "arithmetic/smiling_man_floor": floor,
    }
