"""GanEvaluator: scores a trained generator with FID-style metrics and blesses it or not.

Inputs: the Trainer's model, Transform's examples and graph (the `eval_split` is the real
reference), and optionally a baseline model from a LatestBlessedModelStrategy resolver.
Outputs follow TFX's Evaluator conventions so Pusher (and the resolver) work unchanged: a
ModelEvaluation (metrics.json, summary.txt, samples.png) and a ModelBlessing.
"""
from __future__ import annotations

import json
from typing import Sequence

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.gan_evaluator import blessing, evaluation, scoring
from components.gan_evaluator.executor import Executor


class GanEvaluatorSpec(ComponentSpec):
    PARAMETERS = {
        "eval_split": ExecutionParameter(type=str),
        "num_samples": ExecutionParameter(type=int),
        "max_real_images": ExecutionParameter(type=int),
        "batch_size": ExecutionParameter(type=int),
        "z_dim": ExecutionParameter(type=int),
        "generator_variant": ExecutionParameter(type=str),  # the untrained floor's architecture
        "embedding_seed": ExecutionParameter(type=int),
        "extractors": ExecutionParameter(type=str),  # JSON list of extractor names
        "metrics": ExecutionParameter(type=str),  # JSON list of scoring.METRICS
        "primary_metric": ExecutionParameter(type=str),
        "feature_subset_size": ExecutionParameter(type=int),
        "image_subset_size": ExecutionParameter(type=int),
        "kid_subsets": ExecutionParameter(type=int),
        "kid_subset_size": ExecutionParameter(type=int),
        "swd_patches_per_image": ExecutionParameter(type=int),
        "ms_ssim_pairs": ExecutionParameter(type=int),
        "inception_ttur_path": ExecutionParameter(type=str),
        "inception_keras_weights": ExecutionParameter(type=str),
        "cache_dir": ExecutionParameter(type=str),  # "" disables the statistics cache
        "thresholds": ExecutionParameter(type=str),  # JSON [[metric key, "max"|"min", limit]]
        "max_fd_ratio_to_untrained": ExecutionParameter(type=float),
        # precision / recall of the primary extractor >= fraction x their real-vs-real values
        "min_precision_fraction": ExecutionParameter(type=float),
        "min_recall_fraction": ExecutionParameter(type=float),
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


_DEFAULTS = evaluation.EvaluationSettings()


class GanEvaluator(base_component.BaseComponent):
    """See docs/evaluation.md for the metrics, extractors, thresholds and the cache.

    The gate: blessed when <primary>_ratio_to_untrained <= max_fd_ratio_to_untrained,
    precision/<primary extractor> >= min_precision_fraction x its real-vs-real value and recall
    likewise with min_recall_fraction (0 drops the condition), every (key, "max"|"min", limit) in
    `thresholds` holds, and, with a baseline, the primary metric is at most
    (1 + baseline_fd_tolerance) x the baseline's.
    """

    SPEC_CLASS = GanEvaluatorSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, model, transformed_examples, transform_graph, *, z_dim: int,
                 generator_variant: str = "seed",
                 eval_split: str = "eval", num_samples: int = _DEFAULTS.num_samples,
                 max_real_images: int = 50000, batch_size: int = _DEFAULTS.batch_size,
                 embedding_seed: int = 0, extractors: Sequence[str] = _DEFAULTS.extractors,
                 metrics: Sequence[str] = _DEFAULTS.metrics.metrics,
                 primary_metric: str = _DEFAULTS.primary_metric,
                 feature_subset_size: int = _DEFAULTS.feature_subset_size,
                 image_subset_size: int = _DEFAULTS.image_subset_size,
                 kid_subsets: int = _DEFAULTS.metrics.kid_subsets,
                 kid_subset_size: int = _DEFAULTS.metrics.kid_subset_size,
                 swd_patches_per_image: int = _DEFAULTS.metrics.swd_patches_per_image,
                 ms_ssim_pairs: int = _DEFAULTS.metrics.ms_ssim_pairs,
                 inception_ttur_path: str = "", inception_keras_weights: str = "",
                 cache_dir: str = "", thresholds: Sequence[Sequence] = (),
                 max_fd_ratio_to_untrained: float = 0.5, min_precision_fraction: float = 0.5,
                 min_recall_fraction: float = 0.3, baseline_fd_tolerance: float = 0.1,
                 grid_size: int = 8, baseline_model=None):
        # Fail at pipeline construction, not minutes into a run.
        evaluation.EvaluationSettings(
            extractors=tuple(extractors), primary_metric=primary_metric,
            metrics=scoring.MetricSettings(metrics=tuple(metrics)))
        for name, fraction in (("min_precision_fraction", min_precision_fraction),
                               ("min_recall_fraction", min_recall_fraction)):
            if not fraction >= 0:
                raise ValueError(f"{name} must be a fraction >= 0 of the real-vs-real value "
                                 f"(0 drops the condition), got {fraction}")
        spec = GanEvaluatorSpec(
            model=model, transformed_examples=transformed_examples,
            transform_graph=transform_graph, baseline_model=baseline_model,
            eval_split=eval_split, num_samples=num_samples, max_real_images=max_real_images,
            batch_size=batch_size, z_dim=z_dim, generator_variant=generator_variant,
            embedding_seed=embedding_seed,
            extractors=json.dumps(list(extractors)), metrics=json.dumps(list(metrics)),
            primary_metric=primary_metric, feature_subset_size=feature_subset_size,
            image_subset_size=image_subset_size, kid_subsets=kid_subsets,
            kid_subset_size=kid_subset_size, swd_patches_per_image=swd_patches_per_image,
            ms_ssim_pairs=ms_ssim_pairs, inception_ttur_path=inception_ttur_path,
            inception_keras_weights=inception_keras_weights, cache_dir=cache_dir,
            thresholds=blessing.thresholds_to_json(thresholds),
            max_fd_ratio_to_untrained=max_fd_ratio_to_untrained,
            min_precision_fraction=min_precision_fraction,
            min_recall_fraction=min_recall_fraction,
            baseline_fd_tolerance=baseline_fd_tolerance, grid_size=grid_size,
            evaluation=types.Channel(type=standard_artifacts.ModelEvaluation),
            blessing=types.Channel(type=standard_artifacts.ModelBlessing))
        super().__init__(spec=spec)
