"""What GanEvaluator is told, typed: built once from PipelineConfig, one exec property, read back
whole.

The metric names and the metrics' own settings live here too: the config, the component and
the executor check against them without importing the metric code.

`PipelineConfig.evaluator_settings()` fills the fields from the config's fields of the same names
(their defaults and reasons live there, once); `eval_cache_dir` is derived from the pipeline root.
The component stores the settings as one JSON exec property and the executor reads them back
with `from_json`, which refuses missing and unknown names rather than falling back to a default.
"""
from __future__ import annotations

import dataclasses
import json

from common import read_whole
from components.gan_evaluator.blessing import Threshold

FEATURE_METRICS = ("fid", "kid", "prdc")
IMAGE_METRICS = ("swd", "ms_ssim")
METRICS = FEATURE_METRICS + IMAGE_METRICS
PRIMARY_METRICS = ("fid", "kid")  # lower is better, so a baseline tolerance reads one way


@dataclasses.dataclass(frozen=True)
class MetricSettings:
    """The metrics' own settings, from EvaluatorSettings.metric_settings()."""
    metrics: tuple
    kid_subsets: int
    kid_subset_size: int
    swd_patches_per_image: int
    ms_ssim_pairs: int
    seed: int = 0  # of the metrics' random subsets and projections, fixed for comparability

    def __post_init__(self):
        unknown = set(self.metrics) - set(METRICS)
        if unknown:
            raise ValueError(f"unknown metrics {sorted(unknown)}; choose from {METRICS}")

    @property
    def needs_images(self) -> bool:
        return any(metric in IMAGE_METRICS for metric in self.metrics)


def split_metric_key(key: str) -> tuple[str, str]:
    """'fid/random_embedding' -> ('fid', 'random_embedding')."""
    metric, _, name = key.partition("/")
    if not name:
        raise ValueError(f"metric key {key!r} is not of the form <metric>/<extractor>")
    return metric, name


@dataclasses.dataclass(frozen=True)
class EvaluatorSettings:
    z_dim: int
    variant: str  # the architecture of the untrained generator, the floor
    generator_filters: int  # and its width
    image_size: int  # and the size it draws
    conditional: bool  # G(z, a) with the `attributes` below (trainer_module/conditions.py)
    eval_split: str
    eval_num_samples: int
    eval_max_real_images: int
    eval_batch_size: int
    embedding_seed: int
    eval_extractors: tuple
    eval_inception_ttur_path: str
    eval_inception_keras_weights: str
    eval_metrics: tuple
    eval_primary_metric: str
    eval_feature_subset_size: int
    eval_image_subset_size: int
    eval_kid_subsets: int
    eval_kid_subset_size: int
    eval_swd_patches_per_image: int
    eval_ms_ssim_pairs: int
    eval_cache_dir: str  # reference statistics kept across runs; "" = no cache
    eval_thresholds: tuple  # ((metric key, "max" | "min", limit), ...)
    max_fd_ratio_to_untrained: float
    eval_min_precision_fraction: float
    eval_min_recall_fraction: float
    baseline_fd_tolerance: float
    sample_grid_size: int
    attributes: tuple
    attribute_max_real_images: int
    attribute_samples: int
    attribute_edit_strength: float

    def __post_init__(self):
        # JSON brings lists back: the settings compare equal to the ones that were stored.
        for name in ("eval_extractors", "eval_metrics", "attributes"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "eval_thresholds", tuple(
            (key, bound, float(limit)) for key, bound, limit in self.eval_thresholds))
        for threshold in self.eval_thresholds:
            Threshold(*threshold)  # a known bound
        # Checked when the pipeline is built, not minutes into a run.
        self.metric_settings()
        metric, name = split_metric_key(self.eval_primary_metric)
        if metric not in PRIMARY_METRICS or name not in self.eval_extractors:
            raise ValueError(
                f"the primary metric must be one of {PRIMARY_METRICS} on a configured "
                f"extractor {self.eval_extractors}, e.g. fid/{self.eval_extractors[0]}; "
                f"got {self.eval_primary_metric!r}")
        for name in ("eval_min_precision_fraction", "eval_min_recall_fraction"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be a fraction >= 0 of the real-vs-real value "
                                 f"(0 drops the condition), got {getattr(self, name)}")

    def metric_settings(self) -> MetricSettings:
        return MetricSettings(
            metrics=self.eval_metrics, kid_subsets=self.eval_kid_subsets,
            kid_subset_size=self.eval_kid_subset_size,
            swd_patches_per_image=self.eval_swd_patches_per_image,
            ms_ssim_pairs=self.eval_ms_ssim_pairs)

    @property
    def primary_extractor(self) -> str:
        return split_metric_key(self.eval_primary_metric)[1]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "EvaluatorSettings":
        return read_whole(cls, json.loads(text), "PipelineConfig.evaluator_settings()")
