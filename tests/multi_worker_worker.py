"""One worker of a multi-worker training run (or the single-worker run it is compared with);
prints one JSON line.

    TF_CONFIG=... python multi_worker_worker.py MODE DATA_ROOT CHECKPOINT_DIR STEPS [PAUSE_AFTER]

MODE: `multi_worker` (MultiWorkerMirroredStrategy over TF_CONFIG's cluster), `mirrored` (one
process, MirroredStrategy over two logical CPUs: the same two replicas in one worker) or
`default` (one process, one device): the training loop on Transform-format records under DATA_ROOT
(written by the test), as run_fn assembles it. PAUSE_AFTER: after that step (and its
checkpoint) the worker says so on stdout and sleeps, for the test to kill it.

`executor`: the TFX Trainer's GenericExecutor, as a cluster runs it on each replica, with
run_fn under distribute_strategy="multi_worker"; CHECKPOINT_DIR is its output root.

The strategy is created before anything else touches TensorFlow (trainer_module/distribution.py:
choose_strategy says why), so the records are written by the test, not here.
"""

import hashlib
import json
import os
import sys
import time

sys.path[:0] = [
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    os.path.dirname(os.path.abspath(__file__)),
]
import tf_environment  # noqa: E402, F401

GLOBAL_BATCH = 16
FINGERPRINTED_STEPS = 3


def records(data_root: str):
    """The (examples, transform graph) artifacts the test wrote (test_multi_worker.py)."""
    from tfx.types import standard_artifacts

    examples = standard_artifacts.Examples()
    examples.uri = os.path.join(data_root, "examples")
    examples.split_names = '["train", "eval"]'
    graph = standard_artifacts.TransformGraph()
    graph.uri = os.path.join(data_root, "graph")
    return examples, graph


def settings(**overrides):
    from tiny_pipeline import NARROW

    from pipeline_config import PipelineConfig
    from trainer_module.settings import TrainerSettings

    return TrainerSettings.of(
        PipelineConfig(
            batch_size=GLOBAL_BATCH, eval_every_steps=0, sample_grid_size=2, **NARROW
        ).with_overrides(**overrides)
    )


def fingerprints(images) -> list:
    """A short hash of each image of a batch, as uint8 pixels (the records' own values)."""
    import numpy as np

    pixels = np.round((np.asarray(images) + 1.0) * 127.5).astype(np.uint8)
    return [hashlib.sha256(image.tobytes()).hexdigest()[:12] for image in pixels]


def local_batches(dataset, strategy, steps: int) -> list:
    """The images this worker's replicas get at each of the first `steps` steps, as the training
    loop splits the global batches (training_loop.distribute_dataset)."""
    from trainer_module.training_loop import distribute_dataset

    batches = iter(distribute_dataset(dataset, strategy))
    seen = []
    for _ in range(steps):
        local = strategy.experimental_local_results(next(batches))
        seen.append([fingerprint for part in local for fingerprint in fingerprints(part)])
    return seen


def all_variables(gan) -> list:
    """Every variable training changes or keeps, in a fixed order: G's and D's weights and
    batch-norm statistics, both optimizers' variables, the generator's weight average."""
    return (
        gan.generator.weights
        + gan.discriminator.weights
        + gan.g_optimizer.variables
        + gan.d_optimizer.variables
        + list(gan.generator_average.averages)
    )


PER_REPLICA = " (per replica)"


def per_replica(variable) -> bool:
    import tensorflow as tf

    return getattr(variable, "synchronization", None) == tf.VariableSynchronization.ON_READ


def two_logical_cpus() -> None:
    """Two CPU devices in this process, for MirroredStrategy's two replicas."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )


def train_loop(mode: str, data_root: str, checkpoint_dir: str, steps: int, pause_after: int):
    from trainer_module import distribution, run

    if mode == "mirrored":
        two_logical_cpus()
    strategy = distribution.choose_strategy(mode)  # before any other TensorFlow work

    import numpy as np
    import tensorflow_transform as tft
    from standalone import trainer_fn_args

    from trainer_module.checkpoints import Checkpoints
    from trainer_module.side_jobs import LoopSettings, SideJob
    from trainer_module.training_loop import standard_jobs, train

    class LossesPerStep(SideJob):
        """{step: losses} of every step the run trains (log_every_steps=1: read back every
        step)."""

        losses = {}

        def after_step(self, step, logs):
            self.losses[step] = logs

    class PauseAfter(SideJob):
        """Says it reached the step (after its checkpoint) and sleeps, to be killed."""

        def after_step(self, step, logs):
            if step == pause_after:
                print(f"paused after step {step}", flush=True)
                time.sleep(600)

    # The same 16 images in file order at every step (shuffle_buffer=1, one global batch per
    # epoch), so a resumed run sees what the uninterrupted one saw at the same steps; and the
    # same 16 seeded-shuffled, a permutation per step, for which worker trains on which image.
    config = settings(shuffle_buffer=1, generator_ema_decay=0.999)
    examples, graph = records(data_root)
    fn_args = trainer_fn_args(examples, graph, config)
    transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)

    def dataset(shuffle_buffer):
        return run.image_dataset(
            fn_args.train_files,
            fn_args.data_accessor,
            transform_output,
            GLOBAL_BATCH,
            64,
            config.train_seed,
            shuffle_buffer,
        )

    shuffled = local_batches(dataset(GLOBAL_BATCH), strategy, FINGERPRINTED_STEPS)
    with strategy.scope():
        gan = run.build_dcgan(config)
    loop = LoopSettings(
        steps=steps,
        global_batch_size=GLOBAL_BATCH,
        steps_per_epoch=100,
        checkpoint_dir=checkpoint_dir,
        checkpoint_every_steps=2,
        log_dir=None,
        log_every_steps=1,
        eval_every_steps=0,
    )
    jobs = standard_jobs(gan, loop, strategy=strategy)
    per_step = LossesPerStep()
    logs = train(
        gan, dataset(1), loop, strategy, jobs + [per_step] + ([PauseAfter()] if pause_after else [])
    )
    (checkpoints,) = [job for job in jobs if isinstance(job, Checkpoints)]
    average = gan.generator_average

    def local(variable):
        return np.asarray(strategy.experimental_local_results(variable)[0].numpy())

    # Every variable of the GAN (both networks' weights and batch-norm statistics, both
    # optimizers' slots, the weight average), by name, each of this worker's replicas' copies
    # stacked. Batch norm's moving statistics are kept per replica (synchronized on read), so
    # their copies differ; their names say so.
    resolver = getattr(strategy, "cluster_resolver", None)
    task = f"{resolver.task_type}:{resolver.task_id}" if resolver else "single"
    weights_file = os.path.join(
        os.path.dirname(os.path.abspath(checkpoint_dir)), f"weights_{task.replace(':', '_')}.npz"
    )
    np.savez(
        weights_file,
        **{
            f"{index:04d} {variable.name}{PER_REPLICA if per_replica(variable) else ''}": np.stack(
                [np.asarray(copy.numpy()) for copy in strategy.experimental_local_results(variable)]
            )
            for index, variable in enumerate(all_variables(gan))
        },
    )
    print(
        json.dumps(
            {
                "task": task,
                "chief": checkpoints.chief,
                "replicas": strategy.num_replicas_in_sync,
                "logs": logs,
                "losses_per_step": {str(step): losses for step, losses in per_step.losses.items()},
                "weights_file": weights_file,
                "images": local_batches(dataset(1), strategy, 1)[0],
                "shuffled_images": shuffled,
                "g_steps": int(local(gan.g_optimizer.iterations)),
                "average_updates": int(local(average.updates)),
                "checkpoints_written": checkpoints.written,
                "latest": checkpoints.latest,
            }
        ),
        flush=True,
    )


def trainer_executor(data_root: str, output_root: str, steps: int) -> None:
    """The TFX Trainer's GenericExecutor on this replica, as the Vertex AI Trainer's job runs
    it: every replica gets the same arguments and TF_CONFIG tells them apart."""
    from tfx import v1 as tfx
    from tfx.components.trainer.executor import GenericExecutor
    from tfx.types import standard_artifacts
    from tfx.utils import proto_utils

    examples, graph = records(data_root)
    model, model_run = standard_artifacts.Model(), standard_artifacts.ModelRun()
    model.uri, model_run.uri = (
        os.path.join(output_root, "model"),
        os.path.join(output_root, "model_run"),
    )
    config = settings(
        distribute_strategy="multi_worker", checkpoint_every_steps=1, output_root=output_root
    )
    GenericExecutor().Do(
        {"examples": [examples], "transform_graph": [graph]},
        {"model": [model], "model_run": [model_run]},
        {
            "train_args": proto_utils.proto_to_json(tfx.proto.TrainArgs(num_steps=steps)),
            "eval_args": proto_utils.proto_to_json(tfx.proto.EvalArgs(num_steps=0)),
            "custom_config": json.dumps(config.to_custom_config()),
            "run_fn": "trainer_module.run.run_fn",
        },
    )
    print(
        json.dumps(
            {
                "model": model.uri,
                "model_run": model_run.uri,
                "checkpoint_root": config.checkpoint_root,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    mode, data_root, target, steps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if mode == "executor":
        trainer_executor(data_root, target, steps)
    else:
        train_loop(mode, data_root, target, steps, int(sys.argv[5]) if len(sys.argv) > 5 else 0)
