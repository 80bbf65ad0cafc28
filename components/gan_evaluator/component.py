"""GanEvaluator: scores a trained generator with FID-style metrics and blesses it or not.

Inputs: the Trainer's model, Transform's examples and graph (the `eval_split` is the real
reference), and optionally a baseline model from a LatestBlessedModelStrategy resolver.
Outputs follow TFX's Evaluator conventions so Pusher (and the resolver) work unchanged: a
ModelEvaluation (metrics.json, summary.txt, samples.png) and a ModelBlessing.
"""

from __future__ import annotations

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.gan_evaluator.executor import Executor
from components.gan_evaluator.settings import EvaluatorSettings


class GanEvaluatorSpec(ComponentSpec):
    PARAMETERS = {
        "settings": ExecutionParameter(type=str),  # EvaluatorSettings as JSON
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
    """See docs/evaluation.md for the metrics, extractors, thresholds and the cache.

    The gate: blessed when <primary>_ratio_to_untrained <= max_fd_ratio_to_untrained,
    precision/<primary extractor> >= eval_min_precision_fraction x its real-vs-real value and
    recall likewise with eval_min_recall_fraction (0 drops the condition), every
    (key, "max"|"min", limit) in `eval_thresholds` holds, and, with a baseline, the primary
    metric is at most (1 + baseline_fd_tolerance) x the baseline's.
    """

    SPEC_CLASS = GanEvaluatorSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(
        self,
        model,
        transformed_examples,
        transform_graph,
        *,
        settings: EvaluatorSettings,
        baseline_model=None,
    ):
        spec = GanEvaluatorSpec(
            model=model,
            transformed_examples=transformed_examples,
            transform_graph=transform_graph,
            baseline_model=baseline_model,
            settings=settings.to_json(),
            evaluation=types.Channel(type=standard_artifacts.ModelEvaluation),
            blessing=types.Channel(type=standard_artifacts.ModelBlessing),
        )
        super().__init__(spec=spec)
