"""What a finished run produced, read back from ML Metadata: for the runner's closing summary."""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Optional

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2
from tfx.orchestration import metadata

from components.celeba_example_gen import report as ingestion_report
from components.gan_evaluator import executor as evaluator_executor


@dataclasses.dataclass
class RunOutputs:
    run_id: str
    executions: dict  # state name -> count, for the latest pipeline run
    metrics: dict
    evaluation_dir: str
    sample_grid: str
    pushed_model: Optional[str]  # None when the evaluator did not bless the model
    ingestion_summary: str  # CelebAExampleGen's counts and its report's path

    @property
    def fully_cached(self) -> bool:
        return set(self.executions) == {"CACHED"}


def _latest(artifacts):
    return max(artifacts, key=lambda artifact: artifact.id) if artifacts else None


def read_run_outputs(metadata_path: str) -> RunOutputs:
    store = mlmd.MetadataStore(metadata.sqlite_metadata_connection_config(metadata_path))
    runs = store.get_contexts_by_type("pipeline_run")
    if not runs:
        raise RuntimeError(f"no pipeline run recorded in {metadata_path}")
    run = max(runs, key=lambda context: (context.create_time_since_epoch, context.id))
    states = {}
    for execution in store.get_executions_by_context(run.id):
        if execution.type.endswith("Resolver"):  # resolvers re-run every time by design
            continue
        name = metadata_store_pb2.Execution.State.Name(execution.last_known_state)
        states[name] = states.get(name, 0) + 1

    evaluation = _latest(store.get_artifacts_by_type("ModelEvaluation"))
    if evaluation is None:
        raise RuntimeError("the run recorded no model evaluation")
    with open(os.path.join(evaluation.uri, evaluator_executor.METRICS_FILE)) as f:
        metrics = json.load(f)
    examples = _latest([a for a in store.get_artifacts_by_type("Examples")
                        if "ingestion_report" in a.custom_properties])
    report_path = examples.custom_properties["ingestion_report"].string_value
    ingestion = ingestion_report.summary(ingestion_report.read_report(examples.uri), report_path)
    pushed = _latest(store.get_artifacts_by_type("PushedModel"))
    pushed_dir = None
    if pushed is not None and pushed.custom_properties["pushed"].int_value == 1:
        pushed_dir = pushed.custom_properties["pushed_destination"].string_value
    return RunOutputs(run_id=run.name, executions=states, metrics=metrics,
                      evaluation_dir=evaluation.uri,
                      sample_grid=os.path.join(evaluation.uri, evaluator_executor.SAMPLE_GRID_FILE),
                      pushed_model=pushed_dir, ingestion_summary=ingestion)
