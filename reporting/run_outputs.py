"""What a run produced, read back from ML Metadata: for the runner's closing summary, the run
report (reporting/run_report.py) and `dcgan-faces info`.

A run's artifacts are found through its executions' events, so a run served from the cache
still points at the artifacts its cached executions reused.
"""

from __future__ import annotations

import dataclasses
import json
import os

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2
from tfx.orchestration import metadata
from tfx.utils import io_utils, path_utils

import common as ids
from components.celeba_example_gen import report as ingestion_report
from components.gan_evaluator import results as evaluator_results

Event = metadata_store_pb2.Event
FINGERPRINT_FILE = "fingerprint.pb"


@dataclasses.dataclass
class RunOutputs:
    run_id: str
    executions: dict  # state name -> count, for the latest pipeline run
    metrics: dict
    evaluation_dir: str
    sample_grid: str
    pushed_model: str | None  # None when the evaluator did not bless the model
    ingestion_summary: str  # CelebAExampleGen's counts and its report's path

    @property
    def fully_cached(self) -> bool:
        return set(self.executions) == {"CACHED"}


@dataclasses.dataclass
class RunArtifacts:
    """One pipeline run: its executions by component, and their outputs by (component, key)."""

    run: metadata_store_pb2.Context
    executions: dict  # component name (the execution type's last part) -> Execution
    outputs: dict  # (component name, output key) -> the latest Artifact under that key

    def output(self, component: str, key: str) -> metadata_store_pb2.Artifact | None:
        return self.outputs.get((component, key))

    def state(self, component: str) -> str:
        execution = self.executions.get(component)
        return (
            metadata_store_pb2.Execution.State.Name(execution.last_known_state)
            if execution
            else "NOT RUN"
        )

    def exec_properties(self, component: str) -> dict:
        """The component's parameters as it ran (TFX records them on the execution)."""
        return {
            name: getattr(value, value.WhichOneof("value"))
            for name, value in self.executions[component].custom_properties.items()
        }


def open_store(metadata_path: str) -> mlmd.MetadataStore:
    """The pipeline's metadata; never creates an empty database where there was none."""
    if not os.path.isfile(metadata_path):
        raise FileNotFoundError(f"no pipeline metadata at {metadata_path}")
    return mlmd.MetadataStore(metadata.sqlite_metadata_connection_config(metadata_path))


def find_run(store: mlmd.MetadataStore, run_id: str | None = None) -> metadata_store_pb2.Context:
    """The pipeline run named `run_id`, or the latest one."""
    runs = store.get_contexts_by_type("pipeline_run")
    if not runs:
        raise LookupError("no pipeline run recorded")
    if run_id is None:
        return max(runs, key=lambda context: (context.create_time_since_epoch, context.id))
    named = [run for run in runs if run.name == run_id]
    if not named:
        raise LookupError(
            f"no pipeline run {run_id!r}; recorded: {', '.join(sorted(run.name for run in runs))}"
        )
    return named[0]


def _component(execution: metadata_store_pb2.Execution) -> str:
    return execution.type.rsplit(".", 1)[-1]


def _outputs_by_key(store: mlmd.MetadataStore, execution_ids) -> dict:
    """(execution id, output key) -> artifact ids, from the executions' OUTPUT events."""
    keyed = {}
    for event in store.get_events_by_execution_ids(list(execution_ids)):
        if event.type == Event.OUTPUT and event.path.steps:
            keyed.setdefault((event.execution_id, event.path.steps[0].key), []).append(
                event.artifact_id
            )
    return keyed


def run_artifacts(store: mlmd.MetadataStore, run: metadata_store_pb2.Context) -> RunArtifacts:
    executions = {}
    for execution in sorted(store.get_executions_by_context(run.id), key=lambda e: e.id):
        executions[_component(execution)] = execution  # a re-tried component: the last try
    by_id = {execution.id: name for name, execution in executions.items()}
    keyed = _outputs_by_key(store, by_id)
    artifacts = {
        a.id: a
        for a in store.get_artifacts_by_id(sorted({i for ids in keyed.values() for i in ids}))
    }
    outputs = {
        (by_id[execution_id], key): artifacts[max(ids)]
        for (execution_id, key), ids in keyed.items()
    }
    return RunArtifacts(run=run, executions=executions, outputs=outputs)


def read_metrics(evaluation: metadata_store_pb2.Artifact) -> dict:
    return json.loads(
        io_utils.read_string_file(os.path.join(evaluation.uri, evaluator_results.METRICS_FILE))
    )


def pushed_destination(pushed: metadata_store_pb2.Artifact | None) -> str | None:
    """Where Pusher copied the model; None when it did not push (the model was not blessed)."""
    if pushed is None or pushed.custom_properties["pushed"].int_value != 1:
        return None
    return pushed.custom_properties["pushed_destination"].string_value


def ingestion(examples: metadata_store_pb2.Artifact) -> tuple[dict, str]:
    """CelebAExampleGen's ingestion report and its path."""
    return (
        ingestion_report.read_report(examples.uri),
        examples.custom_properties["ingestion_report"].string_value,
    )


def read_run_outputs(metadata_path: str) -> RunOutputs:
    store = open_store(metadata_path)
    run = run_artifacts(store, find_run(store))
    states = {}
    for component, execution in run.executions.items():
        if component.endswith("Resolver"):  # resolvers re-run every time by design
            continue
        name = metadata_store_pb2.Execution.State.Name(execution.last_known_state)
        states[name] = states.get(name, 0) + 1

    evaluation = run.output(ids.EVALUATOR, "evaluation")
    if evaluation is None:
        raise RuntimeError("the run recorded no model evaluation")
    report, report_path = ingestion(run.output(ids.EXAMPLE_GEN, "examples"))
    return RunOutputs(
        run_id=run.run.name,
        executions=states,
        metrics=read_metrics(evaluation),
        evaluation_dir=evaluation.uri,
        sample_grid=os.path.join(evaluation.uri, evaluator_results.SAMPLE_GRID_FILE),
        pushed_model=pushed_destination(run.output(ids.PUSHER, "pushed_model")),
        ingestion_summary=ingestion_report.summary(report, report_path),
    )


def _read_bytes(path: str) -> bytes | None:
    try:
        return io_utils.read_bytes_file(path)
    except OSError:  # fileio's NotFoundError is one
        return None


def model_of_export(
    store: mlmd.MetadataStore, export_dir: str
) -> metadata_store_pb2.Artifact | None:
    """The Trainer's Model artifact whose SavedModel `export_dir` is (or is a copy of, as Pusher
    makes): the same SavedModel fingerprint. The latest such model, None when none matches."""
    fingerprint = _read_bytes(os.path.join(export_dir, FINGERPRINT_FILE))
    if fingerprint is None:
        return None
    matches = [
        model
        for model in store.get_artifacts_by_type("Model")
        if _read_bytes(os.path.join(path_utils.serving_model_path(model.uri), FINGERPRINT_FILE))
        == fingerprint
    ]
    return max(matches, key=lambda model: model.id) if matches else None


def evaluation_of_export(store: mlmd.MetadataStore, export_dir: str) -> tuple:
    """(the Trainer's Model artifact of this SavedModel, its latest GanEvaluator `evaluation`
    artifact); either None when not found."""
    model = model_of_export(store, export_dir)
    evaluation = evaluation_of_model(store, model.id).get("evaluation") if model else None
    return model, evaluation


def evaluation_of_model(store: mlmd.MetadataStore, model_id: int) -> dict:
    """The latest GanEvaluator outputs (key -> Artifact: evaluation, blessing) that scored the
    model with this id as its candidate; {} when it was never evaluated."""
    readers = {
        event.execution_id
        for event in store.get_events_by_artifact_ids([model_id])
        if event.type == Event.INPUT and event.path.steps and event.path.steps[0].key == "model"
    }
    evaluators = [
        execution.id
        for execution in store.get_executions_by_id(sorted(readers))
        if _component(execution) == ids.EVALUATOR
    ]
    if not evaluators:
        return {}
    keyed = _outputs_by_key(store, [max(evaluators)])
    return {key: store.get_artifacts_by_id([max(ids)])[0] for (_, key), ids in keyed.items()}
