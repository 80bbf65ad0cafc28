"""How the Trainer spreads its work: the tf.distribute strategy from the setting and the cluster
(TF_CONFIG), and a worker's wait for the chief's export."""

from __future__ import annotations

import json
import os
import time
import typing

import tensorflow as tf

from pipeline_config import DistributeStrategy

STRATEGIES = typing.get_args(DistributeStrategy)
CHIEF_EXPORT_WAIT_SECONDS = 600


def cluster_workers() -> int:
    """The training tasks (chief and workers) of the cluster in TF_CONFIG, 0 without one.

    A cluster sets TF_CONFIG on each replica of a multi-worker job: Vertex AI's custom jobs
    (its first worker pool as `chief`, the second as `worker`), Kubeflow's TFJob."""
    cluster = json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster", {})
    return len(cluster.get("chief", [])) + len(cluster.get("worker", []))


def choose_strategy(name: str) -> tf.distribute.Strategy:
    """'auto': MultiWorkerMirroredStrategy when TF_CONFIG names several workers, else
    MirroredStrategy over several GPUs, else the default strategy. 'multi_worker': always
    MultiWorkerMirroredStrategy, over TF_CONFIG's cluster (one worker without it). 'mirrored'
    on a machine without GPUs mirrors over its logical CPUs (one on a usual host, where it is
    the default strategy's work with MirroredStrategy's code path; the tests configure two);
    MirroredStrategy() alone would take the first CPU only.

    Call it before anything else runs in TensorFlow: MultiWorkerMirroredStrategy configures
    collective ops and starts this worker's gRPC server as the TensorFlow runtime starts, and
    once any op or device listing has started the runtime TensorFlow refuses ("Collective ops
    must be configured at program startup"). So the multi-worker case is decided from TF_CONFIG
    alone, before the GPUs are listed, and run_fn calls this first. The TFX Trainer executor
    runs nothing in TensorFlow before run_fn, and on Vertex AI each worker is a process of its
    own; a Trainer run in-process after other components (the local runner) is too late.
    """
    if name not in STRATEGIES:
        raise ValueError(f"distribute_strategy must be one of {STRATEGIES}, not {name!r}")
    if name == "multi_worker" or (name == "auto" and cluster_workers() > 1):
        try:
            return tf.distribute.MultiWorkerMirroredStrategy()
        except RuntimeError as error:
            raise RuntimeError(
                "MultiWorkerMirroredStrategy must be created before TensorFlow runs anything "
                "in the process; run the Trainer in a process of its own (as a cluster does)"
            ) from error
    gpus = tf.config.list_logical_devices("GPU")
    if name == "mirrored" or (name == "auto" and len(gpus) > 1):
        cpus = None if gpus else [device.name for device in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(cpus)
    return tf.distribute.get_strategy()


def wait_for_chief_export(
    serving_model_dir: str, timeout: float = CHIEF_EXPORT_WAIT_SECONDS, poll: float = 1.0
) -> None:
    """Returns once the chief's SavedModel is in `serving_model_dir`.

    A worker other than the chief exports into a folder of its own and deletes it, but TFX's
    Trainer executor checks on every worker that run_fn left a model at serving_model_dir.
    The workers reach the export together (it reads the distributed variables, a collective
    op), so the wait is about the chief's write; a chief that failed writes none, and after
    `timeout` seconds this worker fails too, saying so.
    """
    saved_model = os.path.join(serving_model_dir, "saved_model.pb")
    deadline = time.monotonic() + timeout
    while not tf.io.gfile.exists(saved_model):
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"the chief wrote no model to {serving_model_dir} within "
                f"{timeout:.0f} s of this worker's end of training"
            )
        time.sleep(poll)
