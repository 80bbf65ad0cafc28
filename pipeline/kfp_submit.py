"""Uploads a compiled pipeline to Kubeflow Pipelines 2.x and starts a run (kfp.Client).

This is what `tfx pipeline create/update` and `tfx run create` did for KFP v1: a pipeline is
found by name, created on first upload and given a new version afterwards, and every submission
runs the version it uploaded.
"""

from __future__ import annotations

import dataclasses
import os
import time

import yaml


@dataclasses.dataclass(frozen=True)
class Submission:
    pipeline_id: str
    version_id: str
    run_id: str


def kfp_package_path(spec_path: str) -> str:
    return os.path.splitext(spec_path)[0] + ".yaml"


def write_kfp_package(pipeline_job: dict, package_path: str) -> str:
    """Writes the PipelineSpec inside the compiled PipelineJob as YAML: the KFP API server takes
    the bare spec and only .yaml/.zip/.tar.gz uploads, not Vertex AI's PipelineJob JSON."""
    os.makedirs(os.path.dirname(os.path.abspath(package_path)), exist_ok=True)
    with open(package_path, "w") as package:
        yaml.safe_dump(pipeline_job["pipelineSpec"], package, sort_keys=True)
    return package_path


def upload(client, package_path: str, pipeline_name: str) -> tuple[str, str]:
    """Returns (pipeline_id, version_id) of the version this upload created."""
    pipeline_id = client.get_pipeline_id(pipeline_name)
    if pipeline_id is None:
        # A first upload creates the pipeline and its first version, but reports only the former.
        pipeline_id = client.upload_pipeline(package_path, pipeline_name=pipeline_name).pipeline_id
        versions = client.list_pipeline_versions(
            pipeline_id, page_size=1, sort_by="created_at desc"
        ).pipeline_versions
        return pipeline_id, versions[0].pipeline_version_id
    version_name = f"{pipeline_name}-{time.strftime('%Y%m%d-%H%M%S')}"
    version = client.upload_pipeline_version(package_path, version_name, pipeline_id=pipeline_id)
    return pipeline_id, version.pipeline_version_id


def submit(
    endpoint: str,
    package_path: str,
    pipeline_name: str,
    *,
    experiment: str,
    pipeline_root: str,
    run_name: str | None = None,
    namespace: str | None = None,
) -> Submission:
    """Uploads the package under `pipeline_name` and runs it in `experiment`. The run gets the
    configured pipeline root: on KFP 2.x that, not the compiled job, decides where artifacts go."""
    import kfp

    client = kfp.Client(host=endpoint, namespace=namespace or "kubeflow")
    pipeline_id, version_id = upload(client, package_path, pipeline_name)
    experiment_id = client.create_experiment(experiment, namespace=namespace).experiment_id
    run = client.run_pipeline(
        experiment_id,
        run_name or f"{pipeline_name} {time.strftime('%Y-%m-%d %H:%M:%S')}",
        pipeline_id=pipeline_id,
        version_id=version_id,
        pipeline_root=pipeline_root,
    )
    return Submission(pipeline_id=pipeline_id, version_id=version_id, run_id=run.run_id)
