"""A pipeline run's facts for its report page: ingestion counts, TFDV anomalies, training curves
and sample grids, metrics, the blessing and its reasons, where the model was pushed.

Everything is found from the run's record in ML Metadata (reporting/run_outputs.py) and the files
of its artifacts. A run that stopped early still gets a page: what it did not reach is None.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re

import tensorflow as tf  # noqa: E402
from tensorflow.core.util import event_pb2  # noqa: E402
from tfx.dsl.io import fileio  # noqa: E402
from tfx.types import standard_artifacts  # noqa: E402

import common as ids  # noqa: E402
from common import (  # noqa: E402
    PROBE_SECONDS,
    PROGRESS_GIF,
    QUALITY_PREFIX,
    REAL_VS_REAL_PREFIX,
    SAMPLES_DIR,
    TENSORBOARD_DIR,
)
from components import anomaly_gate  # noqa: E402
from components.gan_evaluator import blessing as blessing_lib  # noqa: E402
from components.gan_evaluator import results as evaluator_results  # noqa: E402
from components.gan_evaluator.settings import EvaluatorSettings  # noqa: E402
from reporting import run_outputs  # noqa: E402

REPORTS_DIR = "reports"  # under the output root: <output_root>/reports/<pipeline>/<run>.html
MAX_SAMPLE_GRIDS = 12  # a long run's grids, evenly spaced, the last one always in


@dataclasses.dataclass(frozen=True)
class GateCheck:
    """One condition of the blessing, with the value the model reached."""

    description: str
    threshold: blessing_lib.Threshold
    value: float | None

    @property
    def holds(self) -> bool:
        return (
            self.value is not None
            and self.threshold.violation({self.threshold.key: self.value}) is None
        )


@dataclasses.dataclass
class RunReport:
    pipeline_name: str
    run_id: str
    states: dict  # component -> COMPLETE, CACHED, FAILED, ... in pipeline order
    ingestion: dict | None = None  # CelebAExampleGen's ingestion report
    ingestion_report_path: str | None = None
    anomalies: list | None = None  # one line per anomaly; None: validation did not run
    training_config: dict | None = None  # the Trainer's custom_config plus train_steps
    scalars: dict = dataclasses.field(default_factory=dict)  # name -> [(step, value)]
    sample_grids: list = dataclasses.field(default_factory=list)  # (label, png path) in order
    progress_gif: str | None = None
    model_dir: str | None = None
    metrics: dict | None = None  # the evaluator's metrics.json
    evaluation_dir: str | None = None
    gate: list = dataclasses.field(default_factory=list)  # GateCheck
    baseline_model: str | None = None
    pushed_model: str | None = None

    @property
    def quality_curves(self) -> dict:
        """The Trainer's in-training quality probe, metric -> [(step, value)] (fid, kid, ...);
        empty when the probe was off (eval_every_steps = 0) or the run predates it."""
        return {
            tag[len(QUALITY_PREFIX) :]: points
            for tag, points in self.scalars.items()
            if tag.startswith(QUALITY_PREFIX) and tag != PROBE_SECONDS
        }

    @property
    def quality_real_vs_real(self) -> dict:
        """metric -> the probe's real-vs-real value (written once, at step 0): the ceiling."""
        return {
            tag[len(REAL_VS_REAL_PREFIX) :]: points[-1][1]
            for tag, points in self.scalars.items()
            if tag.startswith(REAL_VS_REAL_PREFIX)
        }

    @property
    def evaluator_sample_grid(self) -> str | None:
        return (
            os.path.join(self.evaluation_dir, evaluator_results.SAMPLE_GRID_FILE)
            if self.evaluation_dir
            else None
        )

    @property
    def evaluator_edit_grid(self) -> str | None:
        """The evaluator's edit grid, when it drew one (a run with attribute directions)."""
        return self._evaluator_file(evaluator_results.EDIT_GRID_FILE)

    @property
    def evaluator_request_grid(self) -> str | None:
        """The evaluator's faces on request, when it drew them (a conditional model)."""
        return self._evaluator_file(evaluator_results.REQUEST_GRID_FILE)

    def _evaluator_file(self, name: str) -> str | None:
        path = os.path.join(self.evaluation_dir, name) if self.evaluation_dir else None
        return path if path and fileio.exists(path) and not fileio.isdir(path) else None


def read_scalars(log_dir: str) -> dict:
    """TensorBoard scalars, name -> [(step, value)] by step; a resumed run's later file wins."""
    series = {}
    for path in sorted(tf.io.gfile.glob(os.path.join(log_dir, "events.out.tfevents.*"))):
        for record in tf.data.TFRecordDataset(path):
            event = event_pb2.Event.FromString(record.numpy())
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "scalars":
                    series.setdefault(value.tag, {})[event.step] = float(
                        tf.make_ndarray(value.tensor)
                    )
    return {tag: sorted(points.items()) for tag, points in series.items()}


def sample_grids(samples_dir: str) -> list:
    """(label, path) of the Trainer's grids: 'epoch 1', 'epoch 2', ..., then 'final' if any;
    at most MAX_SAMPLE_GRIDS epochs, so a long run's page stays a few megabytes."""
    if not tf.io.gfile.isdir(samples_dir):
        return []
    stems = sorted(name[:-4] for name in tf.io.gfile.listdir(samples_dir) if name.endswith(".png"))
    epochs = [stem for stem in stems if stem.startswith("epoch_")]
    if len(epochs) > MAX_SAMPLE_GRIDS:
        epochs = [
            epochs[round(i * (len(epochs) - 1) / (MAX_SAMPLE_GRIDS - 1))]
            for i in range(MAX_SAMPLE_GRIDS)
        ]
    others = [stem for stem in stems if not stem.startswith("epoch_")]
    return [
        (
            f"epoch {int(stem[len('epoch_') :])}" if stem in epochs else stem,
            os.path.join(samples_dir, stem + ".png"),
        )
        for stem in epochs + others
    ]


def _anomalies(artifact) -> list:
    anomalies = standard_artifacts.ExampleAnomalies()
    anomalies.set_mlmd_artifact(artifact)
    return anomaly_gate.describe_anomalies(anomalies)


def _training_config(run: run_outputs.RunArtifacts) -> dict | None:
    """What the Trainer ran with: the same keys the export's training_config.json has."""
    if ids.TRAINER not in run.executions:
        return None
    props = run.exec_properties(ids.TRAINER)
    return {
        **json.loads(props["custom_config"]),
        "train_steps": json.loads(props["train_args"]).get("num_steps"),
    }


def gate_checks(settings: EvaluatorSettings, metrics: dict) -> list:
    """Each condition of the blessing (the evaluator's own `gate_thresholds`, so the page and the
    decision cannot disagree) with the value the model reached; a derived limit says how it was
    derived, e.g. "precision/random_embedding ≥ 0.5 x real-vs-real 0.91 = 0.455"."""
    checks = [
        GateCheck(
            f"{t.key} {'≤' if t.bound == 'max' else '≥'} {t.limit_text()}", t, metrics.get(t.key)
        )
        for t in evaluator_results.gate_thresholds(settings, metrics)
    ]
    primary = settings.eval_primary_metric
    baseline = metrics.get(f"{primary}_baseline")
    if baseline is not None:
        rule = blessing_lib.baseline_threshold(primary, baseline, settings.baseline_fd_tolerance)
        checks.append(GateCheck(f"{primary} ≤ {rule.limit_text()}", rule, metrics.get(primary)))
    return checks


def _gate(run: run_outputs.RunArtifacts, metrics: dict) -> list:
    """The gate's conditions, from the settings the evaluator ran with."""
    return gate_checks(
        EvaluatorSettings.from_json(run.exec_properties(ids.EVALUATOR)["settings"]), metrics
    )


def gather(metadata_path: str, run_id: str | None = None) -> RunReport:
    store = run_outputs.open_store(metadata_path)
    run = run_outputs.run_artifacts(store, run_outputs.find_run(store, run_id))
    first = min(run.executions.values(), key=lambda execution: execution.id)
    pipelines = [
        context.name
        for context in store.get_contexts_by_execution(first.id)
        if context.type == "pipeline"
    ]
    report = RunReport(
        pipeline_name=pipelines[0],
        run_id=run.run.name,
        states={name: run.state(name) for name in run.executions},
    )

    examples = run.output(ids.EXAMPLE_GEN, "examples")
    if examples is not None:
        report.ingestion, report.ingestion_report_path = run_outputs.ingestion(examples)
    anomalies = run.output(ids.EXAMPLE_VALIDATOR, "anomalies")
    if anomalies is not None:
        report.anomalies = _anomalies(anomalies)
    report.training_config = _training_config(run)
    model_run = run.output(ids.TRAINER, "model_run")
    if model_run is not None:
        report.scalars = read_scalars(os.path.join(model_run.uri, TENSORBOARD_DIR))
        report.sample_grids = sample_grids(os.path.join(model_run.uri, SAMPLES_DIR))
        gif = os.path.join(model_run.uri, SAMPLES_DIR, PROGRESS_GIF)
        report.progress_gif = gif if tf.io.gfile.exists(gif) else None
    model = run.output(ids.TRAINER, "model")
    report.model_dir = model.uri if model is not None else None

    evaluation = run.output(ids.EVALUATOR, "evaluation")
    if evaluation is not None:
        report.evaluation_dir = evaluation.uri
        report.metrics = run_outputs.read_metrics(evaluation)
        report.gate = _gate(run, report.metrics)
    blessing = run.output(ids.EVALUATOR, "blessing")
    if blessing is not None and "baseline_model" in blessing.custom_properties:
        report.baseline_model = blessing.custom_properties["baseline_model"].string_value
    report.pushed_model = run_outputs.pushed_destination(run.output(ids.PUSHER, "pushed_model"))
    return report


def default_path(output_root: str, pipeline_name: str, run_id: str) -> str:
    """<output_root>/reports/<pipeline>/<run id>.html, the run id made safe for a file name."""
    return os.path.join(
        output_root, REPORTS_DIR, pipeline_name, re.sub(r"[^A-Za-z0-9._-]", "-", run_id) + ".html"
    )
