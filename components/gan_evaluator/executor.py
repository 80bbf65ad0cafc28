"""GanEvaluator executor: TFX artifacts in, metrics, sample grid and a ModelBlessing out.

The scoring itself lives in evaluation.py; this module reads the artifacts and exec properties,
and writes metrics.json, summary.txt, samples.png and the blessing.
"""
from __future__ import annotations

import functools
import json
import logging
import math
import os
from typing import Any, Dict, List

import tensorflow_transform as tft
from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import io_utils

from components.gan_evaluator import blessing as blessing_lib
from components.gan_evaluator import calibration, scoring, sources
from components.gan_evaluator.evaluation import Evaluation, EvaluationSettings
from components.gan_evaluator.scoring import MetricSettings
from components.gan_evaluator.timing import PhaseTimer
from trainer_module import images

METRICS_FILE = "metrics.json"
SUMMARY_FILE = "summary.txt"
SAMPLE_GRID_FILE = "samples.png"


def settings_from_exec_properties(props: Dict[str, Any]) -> EvaluationSettings:
    return EvaluationSettings(
        num_samples=props["num_samples"], z_dim=props["z_dim"], batch_size=props["batch_size"],
        extractors=tuple(json.loads(props["extractors"])),
        primary_metric=props["primary_metric"],
        metrics=MetricSettings(
            metrics=tuple(json.loads(props["metrics"])), kid_subsets=props["kid_subsets"],
            kid_subset_size=props["kid_subset_size"],
            swd_patches_per_image=props["swd_patches_per_image"],
            ms_ssim_pairs=props["ms_ssim_pairs"]),
        feature_subset_size=props["feature_subset_size"],
        image_subset_size=props["image_subset_size"], embedding_seed=props["embedding_seed"],
        inception_ttur_path=props["inception_ttur_path"],
        inception_keras_weights=props["inception_keras_weights"], cache_dir=props["cache_dir"])


def _metric_line(key: str, results: dict) -> str:
    """'precision/E: 0.0020 (real vs real 0.9100)': a value next to its calibration, if any."""
    reference = results.get(calibration.calibration_key(key))
    return f"{key}: {results[key]:.4f}" + (
        f" (real vs real {reference:.4f})" if isinstance(reference, float) else "")


def summary_text(results: dict, primary: str) -> str:
    lines = [f"{primary}: {results[primary]:.4f} (untrained generator: "
             f"{results[primary + '_untrained']:.4f}, ratio "
             f"{results[primary + '_ratio_to_untrained']:.3f})"]
    if primary + "_baseline" in results:
        lines.append(f"{primary} of the blessed baseline: {results[primary + '_baseline']:.4f}")
    if isinstance(results.get(calibration.calibration_key(primary)), float):
        lines.append(f"{primary} of real images against other real images: "
                     f"{results[calibration.calibration_key(primary)]:.4f} "
                     f"({results.get('num_real_vs_real_images', '?')} per side)")
    lines += [_metric_line(key, results) for key, value in sorted(results.items())
              if "/" in key and key.split("/")[0] != "fd" and not key.startswith(primary)
              and calibration.SUFFIX not in key and isinstance(value, float)]
    lines += [f"warning: {warning}" for warning in results.get("warnings", [])]
    lines.append("BLESSED" if results["blessed"] else
                 "NOT BLESSED: " + "; ".join(results["not_blessed_reasons"]))
    return "\n".join(lines) + "\n"


def calibrated_thresholds(props: Dict[str, Any], results: dict) -> list[blessing_lib.Threshold]:
    """precision and recall of the primary extractor >= a fraction of their real-vs-real values.

    A fraction of 0 (or a run recorded before these settings existed) adds no condition. When
    the calibration is missing the condition is on the calibration key itself, so the gate
    fails saying it was not computed.
    """
    _, name = scoring.split_metric_key(props["primary_metric"])
    thresholds = []
    for metric, prop in (("precision", "min_precision_fraction"),
                         ("recall", "min_recall_fraction")):
        fraction = props.get(prop, 0.0)
        if not fraction:
            continue
        key = f"{metric}/{name}"
        reference = results.get(calibration.calibration_key(key))
        if reference is None or not math.isfinite(reference):
            thresholds.append(blessing_lib.Threshold(calibration.calibration_key(key), "min", 0.0))
            continue
        thresholds.append(blessing_lib.Threshold(
            key, "min", fraction * reference,
            basis=f"{fraction:g} x real-vs-real {reference:.4g}"))
    return thresholds


def gate_thresholds(props: Dict[str, Any], results: dict) -> list[blessing_lib.Threshold]:
    """The configured thresholds, the ratio to the untrained generator, and precision and
    recall against real-vs-real."""
    primary = props["primary_metric"]
    return blessing_lib.thresholds_from_json(props["thresholds"]) + [
        blessing_lib.Threshold(f"{primary}_ratio_to_untrained", "max",
                               props["max_fd_ratio_to_untrained"])] + calibrated_thresholds(
        props, results)


def decision(results: dict, props: Dict[str, Any]) -> tuple[bool, list[str]]:
    """The gate: `gate_thresholds`, and with a baseline, no worse than it beyond the tolerance."""
    primary = props["primary_metric"]
    return blessing_lib.decide(results, gate_thresholds(props, results), primary,
                               results.get(f"{primary}_baseline"), props["baseline_fd_tolerance"])


def write_evaluation(directory: str, results: dict, primary: str, samples, grid_size: int) -> str:
    """metrics.json, summary.txt and samples.png; returns the summary."""
    images.save_image_grid(samples, os.path.join(directory, SAMPLE_GRID_FILE), columns=grid_size)
    io_utils.write_string_file(os.path.join(directory, METRICS_FILE),
                               json.dumps(results, indent=2, sort_keys=True))
    summary = summary_text(results, primary)
    io_utils.write_string_file(os.path.join(directory, SUMMARY_FILE), summary)
    return summary


class Executor(base_executor.BaseExecutor):

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        props = exec_properties
        model = artifact_utils.get_single_instance(input_dict["model"])
        examples = artifact_utils.get_single_instance(input_dict["transformed_examples"])
        transform_graph = artifact_utils.get_single_instance(input_dict["transform_graph"])
        baseline = (artifact_utils.get_single_instance(input_dict["baseline_model"])
                    if input_dict.get("baseline_model") else None)
        evaluation_dir = artifact_utils.get_single_instance(output_dict["evaluation"]).uri
        settings = settings_from_exec_properties(props)

        split_uri = artifact_utils.get_split_uri([examples], props["eval_split"])
        feature_spec = tft.TFTransformOutput(transform_graph.uri).transformed_feature_spec()
        timer = PhaseTimer()
        evaluation = Evaluation(
            settings, sources.real_source_key(split_uri, props["eval_split"],
                                              props["max_real_images"]),
            functools.partial(sources.real_image_batches, split_uri, feature_spec,
                              settings.batch_size, props["max_real_images"]), timer)
        candidate = sources.exported_generator(model.uri)
        results, warnings = evaluation.score(
            candidate, sources.untrained_generator(settings.z_dim, props["generator_variant"]),
            sources.exported_generator(baseline.uri) if baseline else None)

        blessed, reasons = decision(results, props)
        results.update(eval_split=props["eval_split"], primary_metric=settings.primary_metric,
                       warnings=warnings, statistics_cache_hits=evaluation.cache_hits,
                       blessed=blessed, not_blessed_reasons=reasons)
        generate, _ = candidate
        summary = write_evaluation(evaluation_dir, results, settings.primary_metric,
                                   generate(evaluation.z[:props["grid_size"] ** 2]),
                                   props["grid_size"])
        blessing_lib.write_blessing(artifact_utils.get_single_instance(output_dict["blessing"]),
                                    model, baseline, blessed)
        logging.info("GanEvaluator time: %s", timer.report())
        print(f"GanEvaluator:\n{summary}", end="")
