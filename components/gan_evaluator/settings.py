"""What GanEvaluator is told, typed: built once from PipelineConfig, one exec property, read back
whole.

The metric names live here too: the config, the component and the executor check against them
without importing the metric code; the metrics read their own settings (eval_kid_subsets, ...)
from EvaluatorSettings under the same names.

Each setting is declared here once (EvaluatorFields), with its default and reason; PipelineConfig
composes the group, and `PipelineConfig.evaluator_settings()` builds the settings from it;
`eval_cache_dir` is derived from the pipeline root. The component stores the settings as one
JSON exec property and the executor reads them back with `from_json`, which refuses missing and
unknown names rather than falling back to a default.
"""

from __future__ import annotations

import dataclasses
import json

from common import read_whole, settings_as_dict
from components.gan_evaluator.blessing import Threshold
from trainer_module.settings import ModelShape

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
class EvaluatorFields(ModelShape):
    """The evaluator's own settings (docs/evaluation.md); the model's shape is the Trainer's
    (ModelShape): the untrained generator, the floor, has the same architecture and size."""

    # Reference statistics from the training images, the FID convention of TTUR and StyleGAN;
    # the built-in set's eval split (~400 images) is too small for 512-d feature statistics.
    eval_split: str = "train"
    eval_num_samples: int = 2000  # generated images per model
    eval_max_real_images: int = 50000  # real images read from `eval_split` at most
    eval_batch_size: int = 250
    embedding_seed: int = 0
    # Feature extractors, named in every metric key: "random_embedding" (offline, not comparable
    # with papers), "inception_ttur" (comparable with papers; needs eval_inception_ttur_path),
    # "inception_keras" (ImageNet InceptionV3 from a local file or Keras' cache).
    eval_extractors: tuple = ("random_embedding",)
    eval_inception_ttur_path: str = ""  # TTUR's classify_image_graph_def.pb
    eval_inception_keras_weights: str = ""  # "" = Keras' cache
    # Of "fid", "kid", "prdc" (precision, recall, density, coverage), "swd", "ms_ssim".
    eval_metrics: tuple = ("fid", "kid", "prdc", "ms_ssim")
    # The gate's metric against the untrained generator and the baseline: fid/<extractor> or
    # kid/<extractor>.
    eval_primary_metric: str = "fid/random_embedding"
    # Real and generated features compared by KID and precision/recall, per set. The real set
    # keeps twice as many: one half is the candidate's reference, the other half the real-vs-real
    # calibration's (docs/evaluation.md). 1500: the built-in set's 3,214 train images hold 2 x 1500.
    eval_feature_subset_size: int = 1500
    eval_image_subset_size: int = 1000  # images kept per set for SWD and MS-SSIM
    eval_kid_subsets: int = 100
    eval_kid_subset_size: int = 1000
    eval_swd_patches_per_image: int = 128
    eval_ms_ssim_pairs: int = 500
    # Blessed only when primary(trained) <= ratio * primary(untrained generator, same architecture),
    max_fd_ratio_to_untrained: float = 0.5
    # ... precision/<primary extractor> >= this fraction of real images' precision against other
    # real images (the real-vs-real calibration, same sample counts; 0 = no such condition),
    eval_min_precision_fraction: float = 0.5
    # ... recall/<primary extractor> >= this fraction of its real-vs-real value (0 = none),
    eval_min_recall_fraction: float = 0.3
    # ... every (metric key, "max" | "min", limit) here holds,
    # e.g. (("precision/random_embedding", "min", 0.1),),
    eval_thresholds: tuple = ()
    # ... and, with a blessed baseline, primary(trained) <= (1 + tolerance) * primary(baseline).
    baseline_fd_tolerance: float = 0.1
    # Attributes of the generated faces (components/gan_evaluator/attributes.py), for the
    # `attributes`; none configured: not measured. The ruler is trained on up to
    # attribute_max_real_images of the train split and scored on the test split.
    attribute_max_real_images: int = 20000
    attribute_samples: int = 1000  # z for the directions, and as many for the edits
    attribute_edit_strength: float = 3.0  # how far z moves along a unit direction (z ~ N(0, I))


@dataclasses.dataclass(frozen=True)
class EvaluatorSettings(EvaluatorFields):
    """EvaluatorFields as the executor reads them, and the statistics cache's folder (derived
    from the pipeline root; "" = no cache)."""

    eval_cache_dir: str = ""

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
        return read_whole(cls, json.loads(text), "PipelineConfig.evaluator_settings()")
