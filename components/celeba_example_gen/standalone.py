"""Runs CelebAExampleGen's executor outside an orchestrator, with the exec properties the
component would hand it: for tests, the throughput benchmark and one-off checks of a folder."""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

from tfx.types import standard_artifacts
from tfx.utils import proto_utils

from components.celeba_example_gen.component import CelebAExampleGen
from components.celeba_example_gen.executor import Executor
from components.celeba_example_gen.policy import IngestionPolicy


def exec_properties(data_root: str, policy: Optional[IngestionPolicy] = None,
                    **component_args) -> Dict[str, Any]:
    """The component's exec properties, protos as JSON as the orchestrator passes them."""
    component = CelebAExampleGen(data_root=str(data_root), policy=policy, **component_args)
    return {key: value if isinstance(value, (str, int, type(None)))
            else proto_utils.proto_to_json(value)
            for key, value in component.exec_properties.items()}


def run_example_gen(data_root: str, output_dir: str, policy: Optional[IngestionPolicy] = None,
                    beam_pipeline_args: Optional[Sequence[str]] = None,
                    **component_args) -> standard_artifacts.Examples:
    """Writes the examples and the ingestion report under output_dir; returns the artifact.
    `component_args` go to CelebAExampleGen (hash_buckets, use_partition_file, ...)."""
    examples = standard_artifacts.Examples()
    examples.uri = str(output_dir)
    context = Executor.Context(beam_pipeline_args=list(beam_pipeline_args or []))
    Executor(context).Do({}, {"examples": [examples]},
                         exec_properties(data_root, policy, **component_args))
    return examples
