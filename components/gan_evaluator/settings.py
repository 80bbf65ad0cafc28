"""What GanEvaluator is told, typed: built once from PipelineConfig, one exec property, read back
whole.

The metric names live here too: the config, the component and the executor check against them
without importing the metric code; the metrics read their own settings (eval_kid_subsets, ...)
from EvaluatorSettings under the same names.

The settings are EvaluatorFields and ModelShape (declared, with their defaults and reasons, in
pipeline_config.py) and `eval_cache_dir`, derived from the pipeline root;
`EvaluatorSettings.of(config)` builds and checks them. The component stores them as one JSON exec
property and the executor reads them back with `from_json`, which refuses missing and unknown
names rather than falling back to a default.
"""

from __future__ import annotations

import dataclasses
import json

from common import read_whole, settings_as_dict
from components.gan_evaluator.blessing import Threshold
from pipeline_config import EvaluatorFields, PipelineConfig, same_named

FEATURE_METRICS = ("fid", "kid", "prdc")
IMAGE_METRICS = ("swd", "ms_ssim")
METRICS = FEATURE_METRICS + IMAGE_METRICS
PRIMARY_METRICS = ("fid", "kid")  # lower is better, so a baseline tolerance reads one way


# The seed of the metrics' random subsets and projections, fixed so that scores compare.
METRIC_SEED = 0


def split_metric_key(key: str) -> tuple[str, str]:
    """'fid/random_embedding' -> ('fid', 'random_embedding')."""
    metric, _, name = key.partition("/")
    if not name:
        raise ValueError(f"metric key {key!r} is not of the form <metric>/<extractor>")
    return metric, name


@dataclasses.dataclass(frozen=True)
class EvaluatorSettings(EvaluatorFields):
    """EvaluatorFields as the executor reads them, and the statistics cache's folder (derived
    from the pipeline root; "" = no cache)."""

    eval_cache_dir: str = ""

    @classmethod
    def of(cls, config: PipelineConfig) -> EvaluatorSettings:
        return same_named(cls, config)

    def __post_init__(self):
        # A limit compares equal whether it was written 1 or 1.0.
        object.__setattr__(
            self,
            "eval_thresholds",
            tuple((key, bound, float(limit)) for key, bound, limit in self.eval_thresholds),
        )
        for threshold in self.eval_thresholds:
            Threshold(*threshold)  # a known bound
        # Checked when the pipeline is built, not minutes into a run.
        unknown = set(self.eval_metrics) - set(METRICS)
        if unknown:
            raise ValueError(f"unknown metrics {sorted(unknown)}; choose from {METRICS}")
        metric, name = split_metric_key(self.eval_primary_metric)
        if metric not in PRIMARY_METRICS or name not in self.eval_extractors:
            raise ValueError(
                f"the primary metric must be one of {PRIMARY_METRICS} on a configured "
                f"extractor {self.eval_extractors}, e.g. fid/{self.eval_extractors[0]}; "
                f"got {self.eval_primary_metric!r}"
            )
        for name in ("eval_min_precision_fraction", "eval_min_recall_fraction"):
            if not getattr(self, name) >= 0:
                raise ValueError(
                    f"{name} must be a fraction >= 0 of the real-vs-real value "
                    f"(0 drops the condition), got {getattr(self, name)}"
                )

    @property
    def needs_images(self) -> bool:
        """Whether a metric compares images (SWD, MS-SSIM), not only features."""
        return any(metric in IMAGE_METRICS for metric in self.eval_metrics)

    @property
    def primary_extractor(self) -> str:
        return split_metric_key(self.eval_primary_metric)[1]

    def to_json(self) -> str:
        return json.dumps(settings_as_dict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> EvaluatorSettings:
        return read_whole(cls, json.loads(text), "EvaluatorSettings.of(config)")
