"""Every knob of the pipeline, in one place to set it.

`PipelineConfig()` is the default run (`python pipeline/run_local.py`). Runners and
tests derive other configurations with `dataclasses.replace(config, field=value)` or
`config.with_overrides(...)`; nothing else in the project hard-codes a path, a size or a
hyperparameter.

Each setting is declared once, with its default and its reason, where the code that reads it
lives: the pipeline's own below; ExampleGen's ingestion policy in
components/celeba_example_gen/policy.py (IngestionFields); the Trainer's in
trainer_module/settings.py (ModelShape, what the Trainer and the evaluator share, and
TrainerFields); the evaluator's in components/gan_evaluator/settings.py (EvaluatorFields).
PipelineConfig composes those groups, so every setting keeps one name from here to the code that
uses it, and builds each component's settings from them.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from pathlib import Path
from typing import Literal

import common as ids
from common import check_choices
from components.celeba_example_gen.policy import IngestionFields, IngestionPolicy
from components.gan_evaluator.settings import EvaluatorFields, EvaluatorSettings
from data import celeba_files
from trainer_module.choices import CropMode
from trainer_module.settings import TrainerFields, TrainerSettings

PROJECT_ROOT = Path(__file__).resolve().parent  # the repository: outputs/, schema/


@dataclasses.dataclass(frozen=True)
class PipelineConfig(IngestionFields, TrainerFields, EvaluatorFields):
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

    def ingestion_policy(self) -> IngestionPolicy:
        """What CelebAExampleGen accepts and when it stops the run: the Data fields of the same
        names."""
        return IngestionPolicy(**_same_named(self, IngestionPolicy))

    def trainer_settings(self) -> TrainerSettings:
        """What `run_fn` reads (trainer_module/settings.py): the fields of the same names, and
        where a crashed Trainer's checkpoints are kept."""
        return TrainerSettings(
            **_same_named(self, TrainerSettings),
            checkpoint_root=os.path.join(self.pipeline_root, ids.TRAINER, "checkpoints"),
        )

    def evaluator_settings(self) -> EvaluatorSettings:
        """What GanEvaluator reads (components/gan_evaluator/settings.py): the fields of the same
        names, and the statistics cache's folder when `eval_cache_statistics` is on."""
        return EvaluatorSettings(
            **_same_named(self, EvaluatorSettings),
            eval_cache_dir=(
                os.path.join(self.pipeline_root, "gan_evaluator_cache")
                if self.eval_cache_statistics
                else ""
            ),
        )

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


def _same_named(config: PipelineConfig, settings_class) -> dict:
    """The config's values for the settings class's fields that the config declares (the rest
    are derived, and passed by the caller)."""
    declared = {field.name for field in dataclasses.fields(PipelineConfig)}
    return {
        field.name: getattr(config, field.name)
        for field in dataclasses.fields(settings_class)
        if field.name in declared
    }


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
