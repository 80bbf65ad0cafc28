"""TFX's Transform executor outside an orchestrator, on the component `create_pipeline` builds,
and the Trainer's FnArgs over its output: for Transform's tests and the input benchmarks."""
from __future__ import annotations

import json
import os
from typing import Optional, Sequence

from tfx import v1 as tfx
from tfx.components.trainer import fn_args_utils
from tfx.components.transform.executor import Executor
from tfx.types import artifact_utils, channel_utils, standard_artifacts
from tfx.utils import proto_utils

from pipeline.pipeline import create_transform
from pipeline_config import PipelineConfig


def _artifact(artifact_type, uri: str):
    artifact = artifact_type()
    artifact.uri = uri
    return artifact


def run_transform(config: PipelineConfig, examples: standard_artifacts.Examples, schema_dir: str,
                  output_dir: str, beam_pipeline_args: Optional[Sequence[str]] = None):
    """Transforms every split of `examples` under output_dir; returns the transformed examples
    and the transform graph. `schema_dir` holds exactly one schema.pbtxt, as a Schema does."""
    schema = _artifact(standard_artifacts.Schema, schema_dir)
    component = create_transform(config, channel_utils.as_channel([examples]),
                                 channel_utils.as_channel([schema]))
    properties = {key: value if isinstance(value, (str, int, type(None)))
                  else proto_utils.proto_to_json(value)
                  for key, value in component.exec_properties.items()}
    outputs = {key: [_artifact(channel.type, os.path.join(output_dir, key))]
               for key, channel in component.outputs.items()}
    transformed = outputs["transformed_examples"][0]
    transformed.split_names = examples.split_names
    context = Executor.Context(beam_pipeline_args=list(beam_pipeline_args or []),
                               tmp_dir=os.path.join(output_dir, "tmp"))
    Executor(context).Do({"examples": [examples], "schema": [schema]}, outputs, properties)
    return transformed, outputs["transform_graph"][0]


def trainer_fn_args(examples: standard_artifacts.Examples,
                    transform_graph: standard_artifacts.TransformGraph,
                    custom_config: dict) -> tfx.components.FnArgs:
    """The FnArgs the Trainer hands run_fn (train files, data accessor, transform output)."""
    no_steps = proto_utils.proto_to_json(tfx.proto.TrainArgs(num_steps=0))
    return fn_args_utils.get_common_fn_args(
        {"examples": [examples], "transform_graph": [transform_graph]},
        {"train_args": no_steps, "eval_args": no_steps,
         "custom_config": json.dumps(custom_config)})


def split_names(examples: standard_artifacts.Examples) -> list:
    return artifact_utils.decode_split_names(examples.split_names)
