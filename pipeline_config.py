"""Every setting of the pipeline, on this one page: its name, type, default and reason.

`PipelineConfig()` is the default run (`python pipeline/run_local.py`). Runners and tests derive
other configurations with `config.with_overrides(name=value)`; nothing else in the project
hard-codes a path, a size or a hyperparameter.

The settings come in groups, each a typed dataclass declared below: the pipeline's own (storage,
data, Transform) in PipelineConfig, what CelebAExampleGen accepts (IngestionFields), what the
Trainer and the evaluator must agree on (ModelShape), the Trainer's (TrainerFields) and the
evaluator's (EvaluatorFields). PipelineConfig is all of them under their own names, so a setting
keeps one name from here to the code that reads it. Each component reads its groups as one
typed object built from a PipelineConfig and checked there (`IngestionPolicy.of(config)`,
`TrainerSettings.of(config)`, `EvaluatorSettings.of(config)`), stored whole in its exec
properties and read back whole. A choice among names is a Literal (below), checked when the
config is built.

This module declares; it imports only the bottom of the project (common, data): the components
import their groups from here.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from pathlib import Path
from typing import Literal

from common import TRAINER, check_choices
from data import celeba_files
from data.synthetic_celeba import CONTROLLED_ATTRIBUTES

# --- Choices: the settings that pick one of several names -------------------------------------
# The code that acts on a choice (in trainer_module/) reads its names from here.
Variant = Literal["seed", "paper"]  # the article's networks or Radford et al.'s: networks.py
Loss = Literal["bce", "least_squares"]  # dcgan.py
Conditioning = Literal["auxiliary", "projection"]  # how a conditional D learns the attributes
DistributeStrategy = Literal["auto", "default", "mirrored", "multi_worker"]  # distribution.py
Precision = Literal["auto", "float32", "mixed_float16", "mixed_bfloat16"]  # precision.py
CropMode = Literal["squash", "center_square", "center_108", "center_140", "center_160"]

PROJECT_ROOT = Path(__file__).resolve().parent  # the repository: outputs/, schema/


# --- The groups: each declared once, with its default and its reason -----------------------


@dataclasses.dataclass(frozen=True)
class IngestionFields:
    """The format is read from the bytes, not the file name; other files are set aside with a
    reason in the ingestion report."""

    allowed_image_formats: tuple = ("JPEG", "PNG")  # Pillow format names
    # Narrower or shorter images are rejected: the generator's output size, smaller images would
    # be upscaled.
    min_image_side: int = 64
    # width * height limit, checked from the header before decoding (decompression bombs).
    max_image_pixels: int = 4096 * 4096
    max_image_bytes: int = 16 * 2**20  # larger files are rejected before they are read into memory
    max_rejected_fraction: float = 0.01  # more set aside than this (of files seen) stops the run


@dataclasses.dataclass(frozen=True)
class ModelShape:
    """What the Trainer and the evaluator (its untrained generator of the same shape, its grids,
    its attribute measures) must agree on."""

    z_dim: int = 100
    image_size: int = 64  # the faces Transform makes and G draws
    variant: Variant = (
        "seed"  # "seed" (the article) or "paper" (Radford et al.: ReLU in G, N(0, .02))
    )
    # G's first feature maps, halved by each upsampling block (D's: TrainerFields). 512 is
    # PyTorch's DCGAN example's G (8 * ngf, ngf = 64); the seed's is twice as wide
    # (seed_recipe.py). Why the default is the narrower: docs/quality.md, "G's width".
    generator_filters: int = 512
    # CelebA attributes (names as in list_attr_celeba.txt) that Transform passes on, each as
    # attr_<Name>: 1 present, 0 absent, -1 unknown (no row for the image, or no file). The
    # default is what the built-in set draws, the attributes whose labels are true there. The
    # evaluator measures them on any model; a conditional one is conditioned on them, in this
    # order.
    attributes: tuple = CONTROLLED_ATTRIBUTES
    # G(z, a), conditioned on the `attributes` (docs/attributes.md): faces on request.
    conditional: bool = False
    sample_grid_size: int = 8  # sample grids are N x N faces


@dataclasses.dataclass(frozen=True)
class TrainerFields(ModelShape):
    """The Trainer's own settings (the seed's DCGAN and the loop around it)."""

    batch_size: int = 32  # the fastest to faces per CPU-second of 32/64/128 (docs/quality.md)
    g_learning_rate: float = 2e-4  # Adam's, for G
    d_learning_rate: float = 2e-4  # Adam's, for D (two time-scale when it differs from G's)
    beta_1: float = 0.5
    # The exported G is the moving average of G's weights with this decay (ramped up from the
    # start, trainer_module/weight_average.py): better FD, precision and recall from the same
    # training (docs/quality.md, "Averaging G's weights"); 0: G's last weights, as the seed's.
    generator_ema_decay: float = 0.999
    loss: Loss = "bce"  # "bce" (the seed's) or "least_squares" (LSGAN; D without its sigmoid)
    real_label: float = 1.0  # D's target for real images (< 1: one-sided label smoothing)
    real_label_noise: float = 0.0  # real labels ~ real_label + this * U(-1, 1); the seed: 0.5
    fake_label_noise: float = 0.0  # fake labels ~ this * U(0, 1); the seed: 0.25
    label_flip_probability: float = 0.0  # chance that D sees an example's labels swapped
    discriminator_filters: int = 64  # D's first convolution's filters, doubled by each block
    # How a conditional D learns the attributes: with an attribute head on its last feature
    # maps, "auxiliary" (AC-GAN: the head trained on real faces, d_attribute_weight, and G scored
    # on the asked attributes through it, g_attribute_weight; AttGAN's 1 and 10), or also
    # reading them, "projection" (Miyato & Koyama 2018; the head too when a weight is above 0),
    # where real faces with one attribute flipped can count as fakes (mismatch_weight). The
    # defaults are the recipe that measured best side by side.
    conditioning: Conditioning = "auxiliary"
    d_attribute_weight: float = 1.0
    g_attribute_weight: float = 10.0
    mismatch_weight: float = 0.0
    train_seed: int = 0  # initial weights, z and label noise
    shuffle_buffer: int = 4096
    checkpoint_every_steps: int = 100  # full-state checkpoints for resuming a crashed Trainer
    log_every_steps: int = 5  # TensorBoard scalars
    # Quality during training (TensorBoard quality/*): every N steps and at the last; 0 = off.
    eval_every_steps: int = 100
    # Fixed z of the probe, scored against the first as many train images (all, if fewer).
    probe_samples: int = 500
    steps_per_epoch: int = 0  # 0: train examples // batch_size, counted once per run
    # auto (MultiWorkerMirrored when TF_CONFIG names several workers, Mirrored on several GPUs),
    # default, mirrored, multi_worker (trainer_module/run.py: choose_strategy; docs/scale.md).
    distribute_strategy: DistributeStrategy = "auto"
    # Keras precision policy: "auto" (mixed_bfloat16 on a CPU with AMX or AVX512_BF16, float32
    # elsewhere: precision.choose_precision; docs/quality.md, "bfloat16"), float32 (the seed's),
    # mixed_float16 for GPUs (with loss scaling), mixed_bfloat16. Exports serve float32 always.
    precision: Precision = "auto"


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
class PipelineConfig(IngestionFields, TrainerFields, EvaluatorFields):
    """The groups above, each setting under its own name, and the pipeline's own settings below.
    `with_overrides(name=value, ...)` changes any of them."""

    # --- Pipeline and storage -------------------------------------------------------------
    pipeline_name: str = "celeba-dcgan"
    output_root: str = str(PROJECT_ROOT / "outputs")  # pipeline root, metadata DB, serving dir
    enable_cache: bool = True
    beam_pipeline_args: tuple[str, ...] = (
        "--runner=DirectRunner",
        "--direct_running_mode=in_memory",  # faster than multi_processing here (docs/ingestion.md)
        "--direct_num_workers=1",
    )

    # --- Data (and the ingestion policy: IngestionFields) -----------------------------------
    # A folder in the CelebA layout (img_align_celeba/, list_attr_celeba.txt,
    # list_eval_partition.txt). When it holds no images and `synthetic_num_images` > 0,
    # the built-in synthetic face set is generated there first.
    data_root: str = str(PROJECT_ROOT / "data" / "generated" / "synthetic_celeba")
    synthetic_num_images: int = 4000
    synthetic_seed: int = 0
    # Without list_eval_partition.txt: a SHA-256 split on the file name, with these weights
    # (train, eval, test).
    hash_split_buckets: tuple[int, int, int] = (8, 1, 1)
    # The curated schema ExampleValidator checks every split against (through ImportSchemaGen).
    schema_file: str = str(PROJECT_ROOT / "schema" / "schema.pbtxt")

    # --- Transform (image_size and attributes: ModelShape) -----------------------------------
    # squash, center_square, center_108, center_140 or center_160 (trainer_module/preprocessing.py)
    crop_mode: CropMode = "center_square"
    # Transform's own pre- and post-transform statistics: the raw data's are StatisticsGen's
    # already and the transformed feature is PNG bytes, so they only cost time (docs/transform.md).
    transform_statistics: bool = False

    # --- Trainer (TrainerFields) --------------------------------------------------------------
    train_steps: int = 1200  # 38,400 images: faces on the built-in set (docs/quality.md)

    # --- Evaluator (EvaluatorFields) ---------------------------------------------------------
    # Real and reference-generator statistics reused across runs, kept in
    # <pipeline_root>/gan_evaluator_cache.
    eval_cache_statistics: bool = True
    # Compare with the latest blessed model (a LatestBlessedModelStrategy Resolver). Off by default:
    # a resolver runs as its own node every run, so a re-run is never served wholly from the cache.
    eval_compare_with_baseline: bool = False

    def __post_init__(self):
        check_choices(self)  # every Literal-typed choice, here and in the groups, at build time

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

    @property
    def checkpoint_root(self) -> str:
        """Where a crashed Trainer's checkpoints are kept, outside TFX's per-execution folders."""
        return os.path.join(self.pipeline_root, TRAINER, "checkpoints")

    @property
    def eval_cache_dir(self) -> str:
        """The evaluator's statistics cache, "" when `eval_cache_statistics` is off."""
        if not self.eval_cache_statistics:
            return ""
        return os.path.join(self.pipeline_root, "gan_evaluator_cache")

    def transform_custom_config(self) -> dict:
        """What preprocessing_fn reads; an unknown attribute name stops the pipeline's build."""
        unknown = sorted(set(self.attributes) - set(celeba_files.CELEBA_ATTRIBUTES))
        if unknown:
            raise ValueError(
                f"attributes: {', '.join(unknown)} not among CelebA's 40 "
                f"({', '.join(celeba_files.CELEBA_ATTRIBUTES)})"
            )
        return {
            "crop_mode": self.crop_mode,
            "image_size": self.image_size,
            "attributes": list(self.attributes),
        }

    def with_overrides(self, **overrides) -> PipelineConfig:
        return dataclasses.replace(self, **overrides)


def same_named(settings_class, config: PipelineConfig):
    """`settings_class` (a component's settings: its groups, and paths derived from the
    pipeline's) with each field the config's value of the same name."""
    return settings_class(
        **{field.name: getattr(config, field.name) for field in dataclasses.fields(settings_class)}
    )


# --- Kubeflow Pipelines / Vertex AI (pipeline/kubeflow_runner.py) ------------------------------
# The cluster run's changes to PipelineConfig: storage every pod and Beam worker reads and writes
# (any tf.io.gfile filesystem; pipeline root, pushed models, Beam temp), CelebA as published
# (img_align_celeba/, list_*_celeba.txt; nothing generated), the curated schema inside the
# image, and ~5 epochs over CelebA's 162,770 training images at the default batch of 32.
CLUSTER_OVERRIDES = {
    "output_root": "gs://your-bucket/celeba-dcgan",
    "data_root": "gs://your-bucket/celeba",
    "synthetic_num_images": 0,
    "schema_file": "/pipeline/schema/schema.pbtxt",
    "train_steps": 25000,
}
BeamRunner = Literal["direct", "dataflow", "flink"]
BEAM_RUNNERS = typing.get_args(BeamRunner)


@dataclasses.dataclass(frozen=True)
class KubeflowConfig:
    """The same DAG on a cluster: shared storage, the project's image, a distributed Beam runner
    for the data steps, and a GPU node for the Trainer. See docs/kubeflow.md.

    The cluster's pipeline is PipelineConfig with `overrides` (CLUSTER_OVERRIDES unless given),
    the Beam runner's arguments and, for several workers, multi-worker training: every other
    setting is the local one. The defaults are placeholders (bucket, project, registry):
    compiling works as they are, a run needs real ones, here or through the runner's flags.
    """

    # PipelineConfig's settings that differ on the cluster (names checked when built).
    overrides: dict = dataclasses.field(default_factory=lambda: dict(CLUSTER_OVERRIDES))
    image: str = "gcr.io/your-gcp-project/celeba-dcgan-tfx:latest"  # built from ./Dockerfile
    spec_path: str = str(PROJECT_ROOT / "outputs" / "kubeflow" / "celeba-dcgan.json")

    # Beam for CelebAExampleGen, StatisticsGen and Transform: one of BEAM_RUNNERS.
    beam_runner: BeamRunner = "dataflow"
    gcp_project: str = "your-gcp-project"
    gcp_region: str = "us-central1"
    dataflow_machine_type: str = "n1-standard-4"
    dataflow_max_workers: int = 16
    flink_master: str = "flink-jobmanager:8081"
    flink_environment_type: str = "EXTERNAL"  # SDK workers in a sidecar of each task manager
    flink_environment_config: str = "localhost:50000"
    flink_parallelism: int = 16

    # The Trainer's node. gpu_type is the Kubernetes resource name on Kubeflow Pipelines
    # ("nvidia.com/gpu"); on Vertex AI it is the accelerator, e.g. "NVIDIA_TESLA_T4".
    trainer_gpu_count: int = 1
    trainer_gpu_type: str = "nvidia.com/gpu"
    trainer_cpu: float = 8.0
    trainer_memory_gb: float = 32.0
    # Machines training together (MultiWorkerMirroredStrategy, docs/scale.md). Above 1 the
    # Trainer runs as a Vertex AI custom job of that many replicas of trainer_machine_type
    # (each with trainer_gpu_count GPUs of trainer_gpu_type, a Vertex accelerator name), started
    # by the Vertex AI Trainer extension from the Trainer's pod (pipeline/kubeflow_runner.py).
    trainer_worker_count: int = 1
    trainer_machine_type: str = "n1-standard-8"

    def __post_init__(self):
        check_choices(self)
        unknown = set(self.overrides) - {field.name for field in dataclasses.fields(PipelineConfig)}
        if unknown:
            raise ValueError(f"overrides name no PipelineConfig setting: {sorted(unknown)}")

    def with_overrides(self, **changes) -> KubeflowConfig:
        """The same cluster with these PipelineConfig settings changed too."""
        return dataclasses.replace(self, overrides={**self.overrides, **changes})

    @property
    def output_root(self) -> str:
        return self.overrides.get("output_root", PipelineConfig.output_root)

    def beam_pipeline_args(self) -> tuple[str, ...]:
        """Arguments for the chosen Beam runner; temp and staging files go under output_root."""
        if self.beam_runner == "direct":
            return (
                "--runner=DirectRunner",
                "--direct_running_mode=multi_processing",
                "--direct_num_workers=0",
            )  # 0: one worker per core of the pod
        if self.beam_runner == "dataflow":
            beam_root = f"{self.output_root.rstrip('/')}/beam"
            return (
                "--runner=DataflowRunner",
                f"--project={self.gcp_project}",
                f"--region={self.gcp_region}",
                f"--temp_location={beam_root}/temp",
                f"--staging_location={beam_root}/staging",
                # Workers run the project's image: TFX, the pins and our modules are all there.
                f"--sdk_container_image={self.image}",
                "--sdk_location=container",
                "--experiments=use_runner_v2",
                f"--machine_type={self.dataflow_machine_type}",
                f"--max_num_workers={self.dataflow_max_workers}",
            )
        if self.beam_runner == "flink":
            return (
                "--runner=FlinkRunner",
                f"--flink_master={self.flink_master}",
                "--flink_submit_uber_jar",
                f"--environment_type={self.flink_environment_type}",
                f"--environment_config={self.flink_environment_config}",
                f"--parallelism={self.flink_parallelism}",
            )
        raise ValueError(f"beam_runner must be one of {BEAM_RUNNERS}, not {self.beam_runner!r}")

    def pipeline_config(self, base: PipelineConfig | None = None) -> PipelineConfig:
        """The local configuration with the cluster's storage, data, steps and Beam runner, and
        multi-worker training when several workers are asked for."""
        multi_worker = (
            {"distribute_strategy": "multi_worker"} if self.trainer_worker_count > 1 else {}
        )
        return (base or PipelineConfig()).with_overrides(
            **self.overrides, beam_pipeline_args=self.beam_pipeline_args(), **multi_worker
        )
