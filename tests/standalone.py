"""Executors outside an orchestrator, with the exec properties their components would hand them
(CelebAExampleGen, Transform), and the Trainer's FnArgs over Transform's output: for tests, the
input benchmarks and one-off checks of a folder. Settings not given are PipelineConfig's."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from tfx import v1 as tfx
from tfx.components.trainer import fn_args_utils
from tfx.components.transform.executor import Executor
from tfx.types import artifact_utils, channel_utils, standard_artifacts
from tfx.utils import proto_utils

from components.celeba_example_gen import executor as example_gen_executor
from components.celeba_example_gen.component import CelebAExampleGen
from components.celeba_example_gen.policy import IngestionPolicy
from pipeline.pipeline import create_transform
from pipeline_config import PipelineConfig
from trainer_module.settings import TrainerSettings


def _artifact(artifact_type, uri: str):
    artifact = artifact_type()
    artifact.uri = uri
    return artifact


def _as_passed(component) -> dict[str, Any]:
    """The component's exec properties, protos as JSON as the orchestrator passes them."""
    return {
        key: value
        if isinstance(value, (str, int, type(None)))
        else proto_utils.proto_to_json(value)
        for key, value in component.exec_properties.items()
    }


def example_gen_exec_properties(
    data_root: str, policy: IngestionPolicy | None = None, **component_args
) -> dict[str, Any]:
    """CelebAExampleGen's exec properties; `component_args` go to the component (hash_buckets,
    use_partition_file, ...)."""
    config = PipelineConfig()
    component_args.setdefault("hash_buckets", config.hash_split_buckets)
    return _as_passed(
        CelebAExampleGen(
            data_root=str(data_root), policy=policy or IngestionPolicy.of(config), **component_args
        )
    )


def run_example_gen(
    data_root: str,
    output_dir: str,
    policy: IngestionPolicy | None = None,
    beam_pipeline_args: Sequence[str] | None = None,
    **component_args,
) -> standard_artifacts.Examples:
    """Writes the examples and the ingestion report under output_dir; returns the artifact."""
    examples = _artifact(standard_artifacts.Examples, str(output_dir))
    context = example_gen_executor.Executor.Context(
        beam_pipeline_args=list(beam_pipeline_args or [])
    )
    example_gen_executor.Executor(context).Do(
        {},
        {"examples": [examples]},
        example_gen_exec_properties(data_root, policy, **component_args),
    )
    return examples


def run_transform(
    config: PipelineConfig,
    examples: standard_artifacts.Examples,
    schema_dir: str,
    output_dir: str,
    beam_pipeline_args: Sequence[str] | None = None,
):
    """Transforms every split of `examples` under output_dir; returns the transformed examples
    and the transform graph. `schema_dir` holds exactly one schema.pbtxt, as a Schema does."""
    schema = _artifact(standard_artifacts.Schema, schema_dir)
    component = create_transform(
        config, channel_utils.as_channel([examples]), channel_utils.as_channel([schema])
    )
    properties = _as_passed(component)
    outputs = {
        key: [_artifact(channel.type, os.path.join(output_dir, key))]
        for key, channel in component.outputs.items()
    }
    transformed = outputs["transformed_examples"][0]
    transformed.split_names = examples.split_names
    context = Executor.Context(
        beam_pipeline_args=list(beam_pipeline_args or []), tmp_dir=os.path.join(output_dir, "tmp")
    )
    Executor(context).Do({"examples": [examples], "schema": [schema]}, outputs, properties)
    return transformed, outputs["transform_graph"][0]


def trainer_fn_args(
    examples: standard_artifacts.Examples,
    transform_graph: standard_artifacts.TransformGraph,
    settings: TrainerSettings,
) -> tfx.components.FnArgs:
    """The FnArgs the Trainer hands run_fn (train files, data accessor, transform output)."""
    no_steps = proto_utils.proto_to_json(tfx.proto.TrainArgs(num_steps=0))
    return fn_args_utils.get_common_fn_args(
        {"examples": [examples], "transform_graph": [transform_graph]},
        {
            "train_args": no_steps,
            "eval_args": no_steps,
            "custom_config": json.dumps(settings.to_custom_config()),
        },
    )


def split_names(examples: standard_artifacts.Examples) -> list:
    return artifact_utils.decode_split_names(examples.split_names)
