"""Compiles the pipeline for Kubeflow Pipelines 2.x / Vertex AI and, given an endpoint, runs it.

    python pipeline/kubeflow_runner.py                        # compile only (outputs/kubeflow/)
    python pipeline/kubeflow_runner.py --endpoint URL         # ... then upload and start a run
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

# Runs as a script, or as `__main__` under the TFX CLI, which puts this folder first on sys.path
# (where pipeline/pipeline.py would shadow the `pipeline` package): the repository goes before it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import bootstrap  # noqa: E402

bootstrap.start()  # an entry point, also when the TFX CLI runs this file as __main__

import common as ids  # noqa: E402
from pipeline_config import BEAM_RUNNERS, KubeflowConfig, PipelineConfig  # noqa: E402

def trainer_resources(kubeflow: KubeflowConfig):
    """The Trainer pod's CPU, memory and GPUs, as KubeflowV2DagRunner reads them from the
    component's platform_config (Vertex AI picks a machine from them; KFP sets pod limits)."""
    from kfp.pipeline_spec import pipeline_spec_pb2

    resources = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec.ResourceSpec(
        cpu_limit=kubeflow.trainer_cpu, memory_limit=kubeflow.trainer_memory_gb)
    if kubeflow.trainer_gpu_count > 0:
        resources.accelerator.type = kubeflow.trainer_gpu_type
        resources.accelerator.count = kubeflow.trainer_gpu_count
    return resources


def build_pipeline(config: PipelineConfig, kubeflow: KubeflowConfig):
    from pipeline.pipeline import create_pipeline

    pipeline = create_pipeline(config)
    trainer = next(node for node in pipeline.components if node.id == ids.TRAINER)
    trainer.with_platform_config(trainer_resources(kubeflow))
    return pipeline


def compile_pipeline(config: PipelineConfig, kubeflow: KubeflowConfig) -> dict:
    """Writes the PipelineJob JSON to kubeflow.spec_path and returns it as a dict."""
    from tfx import v1 as tfx

    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
            default_image=kubeflow.image),
        output_dir=os.path.dirname(kubeflow.spec_path),
        output_filename=os.path.basename(kubeflow.spec_path))
    return runner.run(build_pipeline(config, kubeflow))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", help="Kubeflow Pipelines API, e.g. http://localhost:8080; "
                                           "upload the pipeline (or a new version) and run it")
    parser.add_argument("--experiment", default="celeba-dcgan", help="KFP experiment of the run")
    parser.add_argument("--run-name", help="name of the run (default: pipeline name and time)")
    parser.add_argument("--namespace", help="KFP namespace (multi-user installations)")
    parser.add_argument("--spec-path", help="where the PipelineJob JSON goes (the YAML beside it)")
    parser.add_argument("--image", help="container image for every step and Dataflow worker")
    parser.add_argument("--output-root", help="pipeline root, pushed models and Beam temp files")
    parser.add_argument("--data-root", help="the CelebA folder, e.g. gs://bucket/celeba")
    parser.add_argument("--beam-runner", choices=BEAM_RUNNERS)
    parser.add_argument("--project", help="GCP project (Dataflow)")
    parser.add_argument("--region", help="GCP region (Dataflow)")
    return parser.parse_args(argv)


def kubeflow_config_from_args(args: argparse.Namespace) -> KubeflowConfig:
    overrides = {"spec_path": args.spec_path, "image": args.image,
                 "output_root": args.output_root, "data_root": args.data_root,
                 "beam_runner": args.beam_runner, "gcp_project": args.project,
                 "gcp_region": args.region}
    return dataclasses.replace(
        KubeflowConfig(), **{key: value for key, value in overrides.items() if value is not None})


def main(argv=None) -> int:
    from pipeline.kfp_submit import kfp_package_path, submit, write_kfp_package

    args = parse_args(argv)
    kubeflow = kubeflow_config_from_args(args)
    config = kubeflow.pipeline_config()
    pipeline_job = compile_pipeline(config, kubeflow)
    package_path = write_kfp_package(pipeline_job, kfp_package_path(kubeflow.spec_path))
    print(f"Pipeline {config.pipeline_name} compiled for image {kubeflow.image}:\n"
          f"  Vertex AI PipelineJob:          {kubeflow.spec_path}\n"
          f"  Kubeflow Pipelines package:     {package_path}")
    if args.endpoint:
        submitted = submit(args.endpoint, package_path, config.pipeline_name,
                           experiment=args.experiment, run_name=args.run_name,
                           pipeline_root=config.pipeline_root, namespace=args.namespace)
        print(f"Run {submitted.run_id} started: pipeline {submitted.pipeline_id}, "
              f"version {submitted.version_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
