"""GanEvaluator executor: TFX artifacts in, metrics, sample grids and a ModelBlessing out.

The scoring itself lives in evaluation.py; this module reads the artifacts and exec properties,
and writes metrics.json, summary.txt, samples.png and the blessing.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
from typing import Any

import numpy as np
import tensorflow_transform as tft
from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import io_utils

from common import process_state_kept
from components.gan_evaluator import attributes, condition_quality, sources
from components.gan_evaluator.evaluation import Evaluation
from components.gan_evaluator.results import (
    ATTRIBUTE_DIRECTIONS_FILE,
    EDIT_GRID_FILE,
    EDIT_GRID_KEY,
    METRICS_FILE,
    REQUEST_GRID_FILE,
    SAMPLE_GRID_FILE,
    SUMMARY_FILE,
    decision,
    summary_text,
)
from components.gan_evaluator.settings import EvaluatorSettings
from metrics.timing import PhaseTimer
from trainer_module import images
from trainer_module.transformed_examples import real_image_batches

EDIT_GRID_ROWS, EDIT_GRID_COLUMNS = 4, 5
REQUEST_GRID_FACES, REQUEST_GRID_SEED = 4, 2468


def write_evaluation(directory: str, results: dict, primary: str, samples, grid_size: int) -> str:
    """metrics.json, summary.txt and samples.png; returns the summary."""
    images.save_image_grid(samples, os.path.join(directory, SAMPLE_GRID_FILE), columns=grid_size)
    io_utils.write_string_file(
        os.path.join(directory, METRICS_FILE), json.dumps(results, indent=2, sort_keys=True)
    )
    summary = summary_text(results, primary)
    io_utils.write_string_file(os.path.join(directory, SUMMARY_FILE), summary)
    return summary


def write_edit_grid(
    directory: str,
    report: attributes.AttributeReport,
    names: list,
    generate,
    settings: EvaluatorSettings,
) -> None:
    """edit_grid.png: EDIT_GRID_ROWS labelled samples the ruler says lack the best edit's
    attribute (attributes.best_edit; faces that have it would show little), one per row, moved
    along its direction from strength 0 to the edits' own (columns); the attribute's name goes
    to metrics.json under EDIT_GRID_KEY. Nothing when no attribute has a direction."""
    name = attributes.best_edit(report.metrics, names)
    if name is None:
        return
    k = names.index(name)
    lacking = report.z[report.decisions[:, k] == 0][:EDIT_GRID_ROWS]  # a direction has >= 10
    strengths = np.linspace(0.0, settings.attribute_edit_strength, EDIT_GRID_COLUMNS)
    z = attributes.edit_grid(lacking, report.directions[k], strengths)
    images.save_image_grid(
        generate(z.astype(np.float32)),
        os.path.join(directory, EDIT_GRID_FILE),
        columns=EDIT_GRID_COLUMNS,
    )
    report.metrics[EDIT_GRID_KEY] = name


def write_request_grid(
    directory: str, table: np.ndarray, generate, settings: EvaluatorSettings
) -> None:
    """request_grid.png for a conditional generator: per attribute a row of REQUEST_GRID_FACES
    faces asked without it, then the same z asked with it (the other attributes from real faces
    that agree with each request)."""
    z = images.latent_points(REQUEST_GRID_FACES, settings.z_dim, REQUEST_GRID_SEED)
    asked = attributes.request_grid(z, table)
    images.save_image_grid(
        generate(asked), os.path.join(directory, REQUEST_GRID_FILE), columns=2 * REQUEST_GRID_FACES
    )


def write_blessing(
    blessing: types.Artifact, model: types.Artifact, baseline: types.Artifact | None, blessed: bool
) -> None:
    """As TFX's Evaluator writes it (a BLESSED or NOT_BLESSED file, and the `blessed`,
    `current_model`, `current_model_id` custom properties), so Pusher gates on it and
    LatestBlessedModelStrategy finds the model later."""
    io_utils.write_string_file(
        os.path.join(blessing.uri, "BLESSED" if blessed else "NOT_BLESSED"), ""
    )
    blessing.set_int_custom_property("blessed", int(blessed))
    blessing.set_string_custom_property("current_model", model.uri)
    blessing.set_int_custom_property("current_model_id", model.id)
    if baseline is not None:
        blessing.set_string_custom_property("baseline_model", baseline.uri)
        blessing.set_int_custom_property("baseline_model_id", baseline.id)


def measure_attributes(
    settings: EvaluatorSettings,
    examples: types.Artifact,
    feature_spec: dict,
    generate,
    attribute_table: np.ndarray | None,
    embed,
) -> attributes.AttributeReport:
    """The ruler trained on the train split and scored on the test split, then the generator's
    attribute rates and directions (components/gan_evaluator/attributes.py); for a conditional
    generator also its quality per condition (condition_quality.py), with `embed`."""

    def read(split: str) -> tuple:
        return attributes.real_images_and_attributes(
            artifact_utils.get_split_uri([examples], split),
            feature_spec,
            settings.attributes,
            settings.attribute_max_real_images,
        )

    train = read("train")
    real_images, real_labels = train
    real = measured = None
    if attribute_table is not None:  # the faces fidelity asks for are embedded as drawn
        real = np.concatenate(
            [
                embed(real_images[i : i + settings.eval_batch_size])
                for i in range(0, len(real_images), settings.eval_batch_size)
            ]
        )
        measured = condition_quality.measured_conditions(real_labels, real.shape[1])
    report = attributes.evaluate_attributes(
        train,
        read("test"),
        settings.attributes,
        generate,
        settings.z_dim,
        settings.attribute_samples,
        settings.attribute_edit_strength,
        settings.eval_batch_size,
        attribute_table=attribute_table,
        embed=embed,
        embedded_requests=measured,
    )
    if attribute_table is not None:
        report.metrics.update(
            condition_quality.condition_fd(
                real,
                real_labels,
                report.unasked_features,
                report.asked_features,
                settings.attributes,
            )
        )
    return report


class Executor(base_executor.BaseExecutor):
    # It seeds the generators; the next component starts from the state before.
    @process_state_kept()
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        settings = EvaluatorSettings.from_json(exec_properties["settings"])
        model = artifact_utils.get_single_instance(input_dict["model"])
        examples = artifact_utils.get_single_instance(input_dict["transformed_examples"])
        transform_graph = artifact_utils.get_single_instance(input_dict["transform_graph"])
        baseline = (
            artifact_utils.get_single_instance(input_dict["baseline_model"])
            if input_dict.get("baseline_model")
            else None
        )
        evaluation_dir = artifact_utils.get_single_instance(output_dict["evaluation"]).uri

        split_uri = artifact_utils.get_split_uri([examples], settings.eval_split)
        feature_spec = tft.TFTransformOutput(transform_graph.uri).transformed_feature_spec()
        timer = PhaseTimer()
        # A conditional candidate is asked for the attribute rows it carries.
        candidate, table = sources.exported_model(model.uri)
        if settings.conditional and table is None:
            raise ValueError(
                f"{model.uri}: the evaluator is configured for a conditional "
                "generator but the model carries no attribute table (trained "
                "unconditionally?)"
            )
        if table is not None and not settings.conditional:
            raise ValueError(
                f"{model.uri}: the model is a conditional generator (it takes "
                "attributes) but the evaluator is configured for an unconditional one"
            )
        evaluation = Evaluation(
            settings,
            sources.real_source_key(split_uri, settings.eval_split, settings.eval_max_real_images),
            functools.partial(
                real_image_batches,
                split_uri,
                feature_spec,
                settings.eval_batch_size,
                settings.eval_max_real_images,
            ),
            timer,
            attribute_table=table,
        )
        results, warnings = evaluation.score(
            candidate,
            sources.untrained_generator(
                z_dim=settings.z_dim,
                variant=settings.variant,
                image_size=settings.image_size,
                attributes=len(settings.attributes) if settings.conditional else 0,
                filters=settings.generator_filters,
                attribute_table=table,
            ),
            sources.exported_generator(baseline.uri) if baseline else None,
        )

        if settings.attributes:
            with timer.phase("attributes"):
                found = measure_attributes(
                    settings,
                    examples,
                    feature_spec,
                    candidate[0],
                    table,
                    evaluation.primary_extractor(),
                )
                write_edit_grid(
                    evaluation_dir, found, list(settings.attributes), candidate[0], settings
                )
                if table is not None:
                    write_request_grid(evaluation_dir, table, candidate[0], settings)
            results.update(found.metrics)
            directions = io.BytesIO()
            np.savez(
                directions,
                names=np.array(settings.attributes),
                directions=found.directions,
                z=found.z.astype(np.float32),
                decisions=found.decisions.astype(np.int8),
            )
            io_utils.write_bytes_file(
                os.path.join(evaluation_dir, ATTRIBUTE_DIRECTIONS_FILE), directions.getvalue()
            )

        blessed, reasons = decision(results, settings)
        primary = settings.eval_primary_metric
        results.update(
            eval_split=settings.eval_split,
            primary_metric=primary,
            warnings=warnings,
            statistics_cache_hits=evaluation.cache_hits,
            blessed=blessed,
            not_blessed_reasons=reasons,
        )
        generate, _ = candidate
        grid = settings.sample_grid_size
        summary = write_evaluation(
            evaluation_dir, results, primary, generate(evaluation.z[: grid**2]), grid
        )
        write_blessing(
            artifact_utils.get_single_instance(output_dict["blessing"]), model, baseline, blessed
        )
        logging.info("GanEvaluator time: %s", timer.report())
        logging.info("GanEvaluator:\n%s", summary)
