"""GanEvaluator: scores a trained generator with FID-style metrics and blesses it or not.

Outputs follow TFX's Evaluator conventions so Pusher (and a LatestBlessedModelStrategy
resolver) work unchanged: a ModelBlessing with the `blessed`, `current_model` and
`current_model_id` custom properties and a BLESSED / NOT_BLESSED file.
"""
from __future__ import annotations

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.gan_evaluator.executor import Executor


class GanEvaluatorSpec(ComponentSpec):
    PARAMETERS = {
        "eval_split": ExecutionParameter(type=str),
        "num_samples": ExecutionParameter(type=int),
        "max_real_images": ExecutionParameter(type=int),
        "batch_size": ExecutionParameter(type=int),
        "z_dim": ExecutionParameter(type=int),
        "embedding_seed": ExecutionParameter(type=int),
        "max_fd_ratio_to_untrained": ExecutionParameter(type=float),
        "baseline_fd_tolerance": ExecutionParameter(type=float),
        "grid_size": ExecutionParameter(type=int),
    }
    INPUTS = {
        "model": ChannelParameter(type=standard_artifacts.Model),
        "transformed_examples": ChannelParameter(type=standard_artifacts.Examples),
        "transform_graph": ChannelParameter(type=standard_artifacts.TransformGraph),
        "baseline_model": ChannelParameter(type=standard_artifacts.Model, optional=True),
    }
    OUTPUTS = {
        "evaluation": ChannelParameter(type=standard_artifacts.ModelEvaluation),
        "blessing": ChannelParameter(type=standard_artifacts.ModelBlessing),
    }


class GanEvaluator(base_component.BaseComponent):
    SPEC_CLASS = GanEvaluatorSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, model, transformed_examples, transform_graph, *, z_dim: int,
                 eval_split: str = "eval", num_samples: int = 1000,
                 max_real_images: int = 10000, batch_size: int = 250, embedding_seed: int = 0,
                 max_fd_ratio_to_untrained: float = 0.5, baseline_fd_tolerance: float = 0.1,
                 grid_size: int = 8, baseline_model=None):
        spec = GanEvaluatorSpec(
            model=model, transformed_examples=transformed_examples,
            transform_graph=transform_graph, baseline_model=baseline_model,
            eval_split=eval_split, num_samples=num_samples, max_real_images=max_real_images,
            batch_size=batch_size, z_dim=z_dim, embedding_seed=embedding_seed,
            max_fd_ratio_to_untrained=max_fd_ratio_to_untrained,
            baseline_fd_tolerance=baseline_fd_tolerance, grid_size=grid_size,
            evaluation=types.Channel(type=standard_artifacts.ModelEvaluation),
            blessing=types.Channel(type=standard_artifacts.ModelBlessing))
        super().__init__(spec=spec)

