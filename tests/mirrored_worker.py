"""Trains the DCGAN under MirroredStrategy on two logical CPU devices; prints one JSON line.

Run as a subprocess: logical devices must be configured before TensorFlow initialises its
runtime, which the test process has long done.

    python mirrored_worker.py CHECKPOINT_DIR STEPS {mirrored,default,run_fn}

run_fn: the Trainer's own entry point with distribute_strategy="mirrored" on Transform-format
records written under CHECKPOINT_DIR, as TFX would call it on a machine with two devices.
"""

import dataclasses
import json
import os
import sys

sys.path[:0] = [
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    os.path.dirname(os.path.abspath(__file__)),
]
import tf_environment  # noqa: E402, F401

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

GLOBAL_BATCH = 16


def two_logical_cpus() -> None:
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )


def run_fn_under_mirrored(root: str, steps: int) -> None:
    """run_fn as TFX calls it, with distribute_strategy="mirrored" and narrow networks."""
    from pathlib import Path

    from standalone import trainer_fn_args
    from test_trainer_quality import transformed_examples
    from tiny_pipeline import NARROW

    from pipeline_config import PipelineConfig
    from trainer_module import distribution, run
    from trainer_module.settings import TrainerSettings

    examples, graph = transformed_examples(Path(root) / "data", 48)
    settings = TrainerSettings.of(
        PipelineConfig(
            output_root=str(Path(root) / "out"),
            batch_size=GLOBAL_BATCH,
            eval_every_steps=0,
            sample_grid_size=2,
            distribute_strategy="mirrored",
            **NARROW,
        )
    )
    fn_args = trainer_fn_args(examples, graph, settings)
    fn_args.train_steps = steps
    fn_args.model_run_dir = str(Path(root) / "model_run")
    fn_args.serving_model_dir = str(Path(root) / "model")
    run.run_fn(fn_args)
    sample = tf.saved_model.load(fn_args.serving_model_dir).signatures["sample"]
    images = sample(count=tf.constant(4), seed=tf.constant(1, tf.int64))["images"].numpy()
    print(
        json.dumps(
            {
                "replicas": distribution.choose_strategy("mirrored").num_replicas_in_sync,
                "images_shape": list(images.shape),
                "pixel_std": float(images.std()),
            }
        )
    )


def main(checkpoint_dir: str, steps: int, mode: str) -> None:
    two_logical_cpus()
    if mode == "run_fn":
        return run_fn_under_mirrored(checkpoint_dir, steps)
    from pipeline_config import PipelineConfig
    from trainer_module.run import build_dcgan
    from trainer_module.settings import TrainerSettings
    from trainer_module.side_jobs import LoopSettings, SideJob
    from trainer_module.training_loop import standard_jobs, train

    class FirstStepLosses(SideJob):
        """Keeps the losses of the run's first step (log_every_steps=1: read back every step)."""

        logs = None

        def after_step(self, step, logs):
            self.logs = self.logs or logs

    # MirroredStrategy() alone takes the GPUs, or one CPU: the two CPU devices are named here.
    strategy = (
        tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        if mode == "mirrored"
        else tf.distribute.get_strategy()
    )
    # The default width, not tests/tiny_pipeline.NARROW: the test tells a wrong loss scaling (2x)
    # from the replicas' own difference (other z, batch norm over half the batch), which the
    # narrow networks make 54 % in the first step's losses (measured) against 17 % here.
    settings = dataclasses.replace(
        TrainerSettings.of(PipelineConfig()), batch_size=GLOBAL_BATCH, generator_ema_decay=0.999
    )
    with strategy.scope():
        gan = build_dcgan(settings)
    real = tf.random.stateless_uniform([GLOBAL_BATCH, 64, 64, 3], [3, 0], -1, 1)
    dataset = tf.data.Dataset.from_tensors(real).repeat()
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
    first_step = FirstStepLosses()
    logs = train(gan, dataset, loop, strategy, standard_jobs(gan, loop) + [first_step])

    def per_replica(variable):
        values = getattr(variable, "values", (variable,))
        return [np.asarray(value.numpy()) for value in values]

    z = strategy.run(lambda: gan.sample_z(4))
    z_values = [np.asarray(v) for v in strategy.experimental_local_results(z)]
    average = gan.generator_average
    print(
        json.dumps(
            {
                "replicas": strategy.num_replicas_in_sync,
                "logs": logs,
                "first_step_logs": first_step.logs,
                "g_steps": int(gan.g_optimizer.iterations.numpy()),
                "weights_equal_across_replicas": all(
                    all(np.array_equal(values[0], other) for other in values[1:])
                    for values in map(
                        per_replica,
                        gan.generator.trainable_weights + gan.discriminator.trainable_weights,
                    )
                ),
                "average_equal_across_replicas": all(
                    all(np.array_equal(values[0], other) for other in values[1:])
                    for values in map(per_replica, average.averages)
                ),
                "average_updates": int(average.updates.numpy()),
                "z_differ_across_replicas": len(z_values) > 1
                and not np.allclose(z_values[0], z_values[1]),
                "average_sum": float(
                    sum(np.abs(per_replica(a)[0]).sum() for a in average.averages)
                ),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
