"""The push gate: blessed when every threshold holds and the candidate is not worse than the
last blessed model by more than a tolerance on the primary metric. Thresholds are fixed limits
from the config, or limits derived from a measurement (a fraction of a real-vs-real value), which
then say how they were derived.

No TFX here: the executor writes the ModelBlessing; the run report and the CLI read the rule.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

BOUNDS = ("max", "min")


@dataclasses.dataclass(frozen=True)
class Threshold:
    key: str  # a metric key of metrics.json
    bound: str  # "max": value <= limit; "min": value >= limit
    limit: float
    # How a derived limit came about, e.g. "0.5 x real-vs-real 0.91": a reason then names the
    # measurement behind the limit, not just a number the user never configured.
    basis: str = ""

    def __post_init__(self):
        if self.bound not in BOUNDS:
            raise ValueError(f"threshold bound must be one of {BOUNDS}, not {self.bound!r}")

    def limit_text(self) -> str:
        """'0.5 x real-vs-real 0.91 = 0.455' for a derived limit, '0.5' for a configured one."""
        return f"{self.basis} = {self.limit:.4g}" if self.basis else f"{self.limit:.4g}"

    def violation(self, results: dict) -> str | None:
        value = results.get(self.key)
        if value is None:
            return f"{self.key} was not computed"
        if not math.isfinite(value):
            return f"{self.key} is not finite ({value})"
        if self.bound == "max" and value > self.limit:
            return f"{self.key} = {value:.4g} > {self.limit_text()}"
        if self.bound == "min" and value < self.limit:
            return f"{self.key} = {value:.4g} < {self.limit_text()}"
        return None


def baseline_threshold(primary: str, baseline_value: float, tolerance: float) -> Threshold:
    """The baseline rule: the candidate's primary metric (lower is better) at most (1 +
    tolerance) x the last blessed model's. The one statement of it, for the decision and for
    the pages that show the gate."""
    return Threshold(
        primary,
        "max",
        (1 + tolerance) * baseline_value,
        basis=f"(1 + {tolerance:g}) x the blessed baseline's {baseline_value:.4g}",
    )


def decide(
    results: dict,
    thresholds: Sequence[Threshold],
    primary: str,
    baseline_value: float | None,
    tolerance: float,
) -> tuple[bool, list[str]]:
    """(blessed, reasons it is not). The primary metric is lower-is-better."""
    value = results.get(primary, math.nan)
    reasons = [] if math.isfinite(value) else [f"{primary} is not finite ({value})"]
    if baseline_value is not None and math.isfinite(value):
        thresholds = [*thresholds, baseline_threshold(primary, baseline_value, tolerance)]
    reasons += [reason for reason in (t.violation(results) for t in thresholds) if reason]
    return not reasons, reasons
