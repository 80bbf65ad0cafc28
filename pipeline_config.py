"""Every knob of the pipeline, in one place.

`PipelineConfig()` is the default run (`python pipeline/run_local.py`). Runners and tests derive
other configurations with `dataclasses.replace(config, field=value)` or `config.with_overrides(...)`;
nothing else in the project hard-codes a path, a size or a hyperparameter.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

# TFT only works with Keras 2: every process that imports TensorFlow must see this first.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

PROJECT_ROOT = Path(__file__).resolve().parent


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    # --- Pipeline and storage -------------------------------------------------------------
    pipeline_name: str = "celeba-dcgan"
    output_root: str = str(PROJECT_ROOT / "outputs")  # pipeline root, metadata DB, serving dir
    enable_cache: bool = True
    beam_pipeline_args: tuple[str, ...] = (
        "--runner=DirectRunner",
        "--direct_running_mode=in_memory",  # at these sizes faster than multi_processing
        "--direct_num_workers=1",
    )

    # --- Data -----------------------------------------------------------------------------
    # A folder in the CelebA layout (img_align_celeba/, list_attr_celeba.txt,
    # list_eval_partition.txt). When it holds no images and `synthetic_num_images` > 0,
    # the built-in synthetic face set is generated there first.
    data_root: str = str(PROJECT_ROOT / "data" / "generated" / "synthetic_celeba")
    synthetic_num_images: int = 4000
    synthetic_seed: int = 0
    # Without list_eval_partition.txt: TFX's hash split on the file name, buckets (train, eval, test).
    hash_split_buckets: tuple[int, int, int] = (8, 1, 1)

    # --- Transform --------------------------------------------------------------------------
    crop_size: int = 178  # centre square crop of the 178x218 aligned faces, before resizing
    image_size: int = 64

    # --- Trainer (the seed's DCGAN) ---------------------------------------------------------
    batch_size: int = 128
    train_steps: int = 180
    z_dim: int = 100
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    real_label_noise: float = 0.5  # real labels ~ 1 + 0.5 * U(-1, 1)
    fake_label_noise: float = 0.25  # fake labels ~ 0.25 * U(0, 1)
    train_seed: int = 0
    shuffle_buffer: int = 4096

    # --- Evaluator --------------------------------------------------------------------------
    eval_split: str = "eval"
    eval_num_samples: int = 1000  # generated images per model
    eval_max_real_images: int = 10000  # real images read from `eval_split` at most
    eval_batch_size: int = 250
    embedding_seed: int = 0
    # Blessed only when FD(trained) <= ratio * FD(untrained generator, same architecture).
    max_fd_ratio_to_untrained: float = 0.5
    # ... and, when a blessed baseline exists, FD(trained) <= (1 + tolerance) * FD(baseline).
    baseline_fd_tolerance: float = 0.1
    sample_grid_size: int = 8  # the grid PNG is N x N samples

    # --- Derived locations --------------------------------------------------------------------
    @property
    def pipeline_root(self) -> str:
        return os.path.join(self.output_root, "pipeline", self.pipeline_name)

    @property
    def metadata_path(self) -> str:
        return os.path.join(self.output_root, "metadata", self.pipeline_name, "metadata.sqlite")

    @property
    def serving_model_dir(self) -> str:
        return os.path.join(self.output_root, "serving_model", self.pipeline_name)

    def trainer_custom_config(self) -> dict:
        """The Trainer's hyperparameters, handed to `run_fn` through FnArgs.custom_config."""
        return {
            "batch_size": self.batch_size,
            "z_dim": self.z_dim,
            "image_size": self.image_size,
            "learning_rate": self.learning_rate,
            "beta_1": self.beta_1,
            "real_label_noise": self.real_label_noise,
            "fake_label_noise": self.fake_label_noise,
            "seed": self.train_seed,
            "shuffle_buffer": self.shuffle_buffer,
        }

    def transform_custom_config(self) -> dict:
        return {"crop_size": self.crop_size, "image_size": self.image_size}

    def with_overrides(self, **overrides) -> "PipelineConfig":
        return dataclasses.replace(self, **overrides)
