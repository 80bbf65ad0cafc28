"""Compiles the pipeline for Kubeflow Pipelines 2.x / Vertex AI and, given an endpoint, runs it.

    python pipeline/kubeflow_runner.py                 # compile (outputs/kubeflow/)
    python pipeline/kubeflow_runner.py --endpoint URL  # ... upload, start a run
    tfx pipeline create --engine vertex --pipeline_path pipeline/kubeflow_runner.py

The DAG is `create_pipeline`'s, compiled by TFX's KubeflowV2DagRunner into a KFP v2 PipelineJob
(JSON, what Vertex AI runs) and the bare PipelineSpec as YAML (what Kubeflow Pipelines uploads).
Storage, image, Beam runner and the Trainer's GPU node come from `KubeflowConfig` in
pipeline_config.py; the flags below override them. See docs/kubeflow.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

# Run as a script, or as `__main__` under the TFX CLI, this file's folder is on sys.path, where its
# modules would shadow the project's top-level packages (pipeline/pipeline.py the `pipeline`
# package): the repository's top level takes its place, first, as `python -m` from it would give.
_FOLDER, _TOP_LEVEL = Path(__file__).resolve().parent, Path(__file__).resolve().parents[1]
sys.path[:] = [str(_TOP_LEVEL)] + [p for p in sys.path if Path(p or ".").resolve() != _FOLDER]
import bootstrap  # noqa: E402

bootstrap.start()  # an entry point, also when the TFX CLI runs this file as __main__

import common as ids  # noqa: E402
from pipeline_config import BEAM_RUNNERS, KubeflowConfig, PipelineConfig  # noqa: E402


def trainer_resources(kubeflow: KubeflowConfig):
    """The Trainer pod's CPU, memory and GPUs, as KubeflowV2DagRunner reads them from the
    component's platform_config (Vertex AI picks a machine from them; KFP sets pod limits)."""
    from kfp.pipeline_spec import pipeline_spec_pb2

    resources = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec.ResourceSpec(
        cpu_limit=kubeflow.trainer_cpu, memory_limit=kubeflow.trainer_memory_gb
    )
    if kubeflow.trainer_gpu_count > 0:
        resources.accelerator.type = kubeflow.trainer_gpu_type
        resources.accelerator.count = kubeflow.trainer_gpu_count
    return resources


def vertex_training_job(kubeflow: KubeflowConfig) -> dict:
    """The Vertex AI custom job that trains on `trainer_worker_count` machines: worker pool 0,
    the chief, and pool 1, the other workers, each replica a `trainer_machine_type` with the
    asked GPUs and the project's image. Vertex AI sets TF_CONFIG on every replica (pool 0 as
    `chief`, pool 1 as `worker`), from which run_fn's MultiWorkerMirroredStrategy learns the
    cluster; "project" is read by the extension, not sent to Vertex.

    A worker that dies (a preempted machine) fails the others' next all-reduce, and a worker
    restarted alone could not join them: Vertex AI restarts the whole job instead
    (`restart_job_on_worker_restart`), which resumes from the chief's last checkpoint, as
    TensorFlow's multi-worker training supports it."""
    machine = {"machine_type": kubeflow.trainer_machine_type}
    if kubeflow.trainer_gpu_count > 0:
        if "/" in kubeflow.trainer_gpu_type:
            raise ValueError(
                f"trainer_gpu_type {kubeflow.trainer_gpu_type!r} is a Kubernetes resource name; "
                "several workers run as a Vertex AI custom job, which wants an accelerator name "
                "such as NVIDIA_TESLA_T4"
            )
        machine.update(
            accelerator_type=kubeflow.trainer_gpu_type, accelerator_count=kubeflow.trainer_gpu_count
        )

    def pool(replicas: int) -> dict:
        return {
            "machine_spec": machine,
            "replica_count": replicas,
            "container_spec": {"image_uri": kubeflow.image},
        }

    return {
        "project": kubeflow.gcp_project,
        "job_spec": {
            "worker_pool_specs": [pool(1), pool(kubeflow.trainer_worker_count - 1)],
            "scheduling": {"restart_job_on_worker_restart": True},
        },
    }


def train_on_vertex_workers(trainer, kubeflow: KubeflowConfig) -> None:
    """Makes the pipeline's Trainer TFX's Vertex AI Trainer: its pod starts
    `vertex_training_job` and waits for it, and every replica runs the Trainer's executor
    with run_fn (the chief's export is the model artifact).

    tfx.extensions.google_cloud_ai_platform.Trainer is the standard Trainer with that
    executor class, which reads the job from the custom_config (run_fn leaves those keys
    aside: trainer_module/run.py, CLOUD_TRAINER_KEYS); the node keeps create_pipeline's id,
    inputs and consumers.
    """
    from tfx import v1 as tfx
    from tfx.utils import json_utils

    vertex = tfx.extensions.google_cloud_ai_platform
    trainer.executor_spec = vertex.Trainer.EXECUTOR_SPEC
    trainer.exec_properties["custom_config"] = json_utils.dumps(
        {
            **json_utils.loads(trainer.exec_properties["custom_config"]),
            vertex.TRAINING_ARGS_KEY: vertex_training_job(kubeflow),
            vertex.ENABLE_VERTEX_KEY: True,
            vertex.VERTEX_REGION_KEY: kubeflow.gcp_region,
        }
    )


def build_pipeline(config: PipelineConfig, kubeflow: KubeflowConfig):
    """create_pipeline's DAG; the Trainer on a GPU pod, or on a Vertex AI custom job of
    `trainer_worker_count` machines when that is above 1 (its pod then only waits)."""
    from pipeline.pipeline import create_pipeline

    pipeline = create_pipeline(config)
    trainer = next(node for node in pipeline.components if node.id == ids.TRAINER)
    if kubeflow.trainer_worker_count > 1:
        train_on_vertex_workers(trainer, kubeflow)
    else:
        trainer.with_platform_config(trainer_resources(kubeflow))
    return pipeline


def compile_pipeline(config: PipelineConfig, kubeflow: KubeflowConfig) -> dict:
    """Writes the PipelineJob JSON to kubeflow.spec_path and returns it as a dict."""
    from tfx import v1 as tfx

    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
            default_image=kubeflow.image
        ),
        output_dir=os.path.dirname(kubeflow.spec_path),
        output_filename=os.path.basename(kubeflow.spec_path),
    )
    return runner.run(build_pipeline(config, kubeflow))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--endpoint",
        help="Kubeflow Pipelines API, e.g. http://localhost:8080; "
        "upload the pipeline (or a new version) and run it",
    )
    parser.add_argument("--experiment", default="celeba-dcgan", help="KFP experiment of the run")
    parser.add_argument("--run-name", help="name of the run (default: pipeline name and time)")
    parser.add_argument("--namespace", help="KFP namespace (multi-user installations)")
    parser.add_argument("--spec-path", help="where the PipelineJob JSON goes (the YAML beside it)")
    parser.add_argument("--image", help="container image for every step and Dataflow worker")
    parser.add_argument("--output-root", help="pipeline root, pushed models and Beam temp files")
    parser.add_argument("--data-root", help="the CelebA folder, e.g. gs://bucket/celeba")
    parser.add_argument("--beam-runner", choices=BEAM_RUNNERS)
    parser.add_argument("--project", help="GCP project (Dataflow)")
    parser.add_argument("--region", help="GCP region (Dataflow, Vertex AI training)")
    parser.add_argument(
        "--workers",
        type=int,
        help="machines training together; above 1, a Vertex AI custom job (docs/kubeflow.md)",
    )
    return parser.parse_args(argv)


def kubeflow_config_from_args(args: argparse.Namespace) -> KubeflowConfig:
    cluster = {
        "spec_path": args.spec_path,
        "image": args.image,
        "beam_runner": args.beam_runner,
        "gcp_project": args.project,
        "gcp_region": args.region,
        "trainer_worker_count": args.workers,
    }
    pipeline = {"output_root": args.output_root, "data_root": args.data_root}
    return dataclasses.replace(
        KubeflowConfig(), **{key: value for key, value in cluster.items() if value is not None}
    ).with_overrides(**{key: value for key, value in pipeline.items() if value is not None})


def main(argv=None) -> int:
    from pipeline.kfp_submit import kfp_package_path, submit, write_kfp_package

    args = parse_args(argv)
    kubeflow = kubeflow_config_from_args(args)
    config = kubeflow.pipeline_config()
    pipeline_job = compile_pipeline(config, kubeflow)
    package_path = write_kfp_package(pipeline_job, kfp_package_path(kubeflow.spec_path))
    print(
        f"Pipeline {config.pipeline_name} compiled for image {kubeflow.image}:\n"
        f"  Vertex AI PipelineJob:          {kubeflow.spec_path}\n"
        f"  Kubeflow Pipelines package:     {package_path}"
    )
    if args.endpoint:
        submitted = submit(
            args.endpoint,
            package_path,
            config.pipeline_name,
            experiment=args.experiment,
            run_name=args.run_name,
            pipeline_root=config.pipeline_root,
            namespace=args.namespace,
        )
        print(
            f"Run {submitted.run_id} started: pipeline {submitted.pipeline_id}, "
            f"version {submitted.version_id}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
