"""What a GanEvaluator run leaves behind, read without TFX or TensorFlow: its output files' names,
the names of the real-vs-real keys, the summary text, and the gate (the thresholds and the
blessing decision) on its metrics.

The executor writes these; the run report, the runner's summary and `dcgan-faces info` read them.
"""

from __future__ import annotations

import math

from components.gan_evaluator import blessing as blessing_lib
from components.gan_evaluator import face_arithmetic
from components.gan_evaluator.settings import EvaluatorSettings

METRICS_FILE = "metrics.json"
SUMMARY_FILE = "summary.txt"
SAMPLE_GRID_FILE = "samples.png"
# names [attributes] and directions [attributes, z_dim] (NaN rows: too rare to find one), and
# the labelled samples they come from: z [samples, z_dim] and the ruler's decisions on G(z)
# [samples, attributes] (face arithmetic draws its concepts from them).
ATTRIBUTE_DIRECTIONS_FILE = "attribute_directions.npz"
# Faces moved along one attribute's direction; the attribute's name is under EDIT_GRID_KEY.
EDIT_GRID_FILE = "edit_grid.png"
EDIT_GRID_KEY = "attributes/edit_grid"
# A conditional generator's faces on request: a row per attribute, the same z asked without it
# (left half) and with it (right half).
REQUEST_GRID_FILE = "request_grid.png"

# Real images scored against other real images: each metric's value under <key>_real_vs_real
# (kid/E_std's under kid/E_real_vs_real_std).
CALIBRATION_SUFFIX = "_real_vs_real"
STD_SUFFIX = "_std"


def calibration_key(metric_key: str) -> str:
    """'precision/E' -> 'precision/E_real_vs_real'; 'kid/E_std' -> 'kid/E_real_vs_real_std'."""
    if metric_key.endswith(STD_SUFFIX):
        return metric_key[: -len(STD_SUFFIX)] + CALIBRATION_SUFFIX + STD_SUFFIX
    return metric_key + CALIBRATION_SUFFIX


def _metric_line(key: str, results: dict) -> str:
    """'precision/E: 0.0020 (real vs real 0.9100)': a value next to its calibration, if any."""
    reference = results.get(calibration_key(key))
    return f"{key}: {results[key]:.4f}" + (
        f" (real vs real {reference:.4f})" if isinstance(reference, float) else ""
    )


def summary_text(results: dict, primary: str) -> str:
    lines = [
        f"{primary}: {results[primary]:.4f} (untrained generator: "
        f"{results[primary + '_untrained']:.4f}, ratio "
        f"{results[primary + '_ratio_to_untrained']:.3f})"
    ]
    if primary + "_baseline" in results:
        lines.append(f"{primary} of the blessed baseline: {results[primary + '_baseline']:.4f}")
    if isinstance(results.get(calibration_key(primary)), float):
        lines.append(
            f"{primary} of real images against other real images: "
            f"{results[calibration_key(primary)]:.4f} "
            f"({results.get('num_real_vs_real_images', '?')} per side)"
        )
    lines += [
        _metric_line(key, results)
        for key, value in sorted(results.items())
        if "/" in key
        and key.split("/")[0] not in ("fd", "attributes")
        and not key.startswith(primary)
        and CALIBRATION_SUFFIX not in key
        and isinstance(value, float)
    ]
    lines += attribute_table(results)
    lines += [f"warning: {warning}" for warning in results.get("warnings", [])]
    lines.append(
        "BLESSED"
        if results["blessed"]
        else "NOT BLESSED: " + "; ".join(results["not_blessed_reasons"])
    )
    return "\n".join(lines) + "\n"


# The attribute measures (components/gan_evaluator/attributes.py), as table columns.
ATTRIBUTE_COLUMNS = (
    ("classifier_accuracy", "ruler accuracy"),
    ("classifier_floor", "floor"),
    ("real_rate", "real rate"),
    ("generated_rate", "generated rate"),
    ("edit_flip_rate", "edit flips"),
    ("edit_others_changed", "others changed"),
    ("edit_worst_other_changed", "worst other"),
)
# A conditional generator's, after those: the ruler agreeing with the request, the FD of
# faces asked with / without the attribute to the real group, over the unasked faces' at the
# same sizes (condition_quality.py), and the edit of the request itself (attributes.code_edit).
FIDELITY_COLUMNS = (
    ("fidelity_on", "asked present"),
    ("fidelity_off", "asked absent"),
    ("fidelity", "fidelity"),
    ("fd_present_ratio", "FD ratio (on)"),
    ("fd_absent_ratio", "FD ratio (off)"),
    ("code_edit_flip_rate", "code flips"),
    ("code_edit_others_changed", "code others"),
    ("code_edit_worst_other_changed", "code worst"),
)


def attribute_columns(results: dict) -> tuple:
    """The (measure, title) columns measured: the fidelity ones for a conditional model only."""
    conditional = "attributes/fidelity_mean" in results
    return ATTRIBUTE_COLUMNS + (FIDELITY_COLUMNS if conditional else ())


def attribute_rows(results: dict) -> list:
    """[(attribute, [value per attribute_columns])] in the measured order; [] when none."""
    prefix = f"attributes/{ATTRIBUTE_COLUMNS[0][0]}/"
    names = [key[len(prefix) :] for key in results if key.startswith(prefix)]
    return [
        (
            name,
            [
                results.get(f"attributes/{measure}/{name}", float("nan"))
                for measure, _ in attribute_columns(results)
            ],
        )
        for name in names
    ]


def fidelity_line(results: dict) -> str:
    """A conditional generator's mean fidelity against the ruler's accuracy, and what asking
    costs in FD (condition_quality.py); '' for an unconditional generator."""
    if "attributes/fidelity_mean" not in results:
        return ""
    ratio = results.get("attributes/fd_ratio_mean", float("nan"))
    cost = (
        f"faces asked for a condition are {ratio:.2f} times as far (FD) from the real faces "
        "in it as unasked faces from real faces"
        if math.isfinite(ratio)
        else "the FD per condition is not measured (no condition has more real faces than "
        "feature dimensions)"
    )
    return (
        f"Faces on request: the ruler agrees with the asked-for attribute in "
        f"{results['attributes/fidelity_mean']:.3f} of faces (mean of asked present and "
        f"asked absent), {results['attributes/fidelity_to_accuracy']:.3f} of its own accuracy "
        f"on real faces ({results['attributes/classifier_accuracy_mean']:.3f}); {cost}."
    )


def arithmetic_line(results: dict) -> str:
    """The paper's face arithmetic, scored (face_arithmetic.py); '' when not measured."""
    key = "attributes/arithmetic/smiling_man"
    if key not in results:
        return ""
    score, spread = results[key], results.get(key + "_spread")
    found = (
        f"{score:.2f} of the result's variations"
        if math.isfinite(score)
        else "not scored (a concept had too few samples)"
    )
    if math.isfinite(score) and spread is not None:
        found += (
            f" (mean over {face_arithmetic.ARITHMETIC_PARTS} disjoint parts of the "
            f"labelled samples, spread {spread:.2f})"
        )
    return (
        f"Face arithmetic, smiling woman - neutral woman + neutral man: the ruler sees a "
        f"smiling man in {found}; in {results[key + '_floor']:.2f} of random faces."
    )


def attribute_table(results: dict) -> list:
    """Text lines: the ruler's accuracy on real test images (and the floor of answering the
    commoner value), how often real and generated faces have each attribute, and how well the
    generator's direction for it edits. Empty when no attributes were measured."""
    rows = attribute_rows(results)
    if not rows:
        return []
    width = max(len(name) for name, _ in rows)
    header = "  ".join(f"{title:>14}" for _, title in attribute_columns(results))
    return (
        [
            "Attributes (ruler: a classifier trained on the real train split, scored on the "
            "real test split; edits: z + strength x the attribute's unit direction):",
            f"  {'attribute':<{width}}  {header}",
        ]
        + [
            f"  {name:<{width}}  " + "  ".join(f"{value:>14.3f}" for value in values)
            for name, values in rows
        ]
        + [line for line in (fidelity_line(results), arithmetic_line(results)) if line]
    )


def calibrated_thresholds(
    settings: EvaluatorSettings, results: dict
) -> list[blessing_lib.Threshold]:
    """precision and recall of the primary extractor >= a fraction of their real-vs-real values.

    A fraction of 0 adds no condition. When the calibration is missing the condition is on the
    calibration key itself, so the gate fails saying it was not computed.
    """
    thresholds = []
    for metric, fraction in (
        ("precision", settings.eval_min_precision_fraction),
        ("recall", settings.eval_min_recall_fraction),
    ):
        if not fraction:
            continue
        key = f"{metric}/{settings.primary_extractor}"
        reference = results.get(calibration_key(key))
        if reference is None or not math.isfinite(reference):
            thresholds.append(blessing_lib.Threshold(calibration_key(key), "min", 0.0))
            continue
        thresholds.append(
            blessing_lib.Threshold(
                key,
                "min",
                fraction * reference,
                basis=f"{fraction:g} x real-vs-real {reference:.4g}",
            )
        )
    return thresholds


def gate_thresholds(settings: EvaluatorSettings, results: dict) -> list[blessing_lib.Threshold]:
    """The configured thresholds, the ratio to the untrained generator, and precision and
    recall against real-vs-real."""
    primary = settings.eval_primary_metric
    return (
        [
            blessing_lib.Threshold(key, bound, limit)
            for key, bound, limit in settings.eval_thresholds
        ]
        + [
            blessing_lib.Threshold(
                f"{primary}_ratio_to_untrained", "max", settings.max_fd_ratio_to_untrained
            )
        ]
        + calibrated_thresholds(settings, results)
    )


def decision(results: dict, settings: EvaluatorSettings) -> tuple[bool, list[str]]:
    """The gate: `gate_thresholds`, and with a baseline, no worse than it beyond the tolerance."""
    primary = settings.eval_primary_metric
    return blessing_lib.decide(
        results,
        gate_thresholds(settings, results),
        primary,
        results.get(f"{primary}_baseline"),
        settings.baseline_fd_tolerance,
    )
