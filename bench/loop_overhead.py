"""What the training loop costs beyond the step: images/s of the Trainer's step, side by side in
one process, from the bare compiled step to the whole loop with its side jobs.

    .venv/bin/python bench/loop_overhead.py [--steps 300] [--skip 20] [--stages loop,fit,...]

Each stage adds one piece (each with a freshly built DCGAN, the default settings, batch 32):
  fixed_batch  the compiled step on one batch held in memory (bench/train_step.py's measure)
  real_data    the step fed by run_fn's input pipeline over Transform's output (read, decode)
  loop         training_loop.train with no side jobs (its distributed-step wrapper, read-backs)
  fit          Keras `fit` over the same input pipeline, the same DCGAN.train_step, no callbacks
               but a timer (the alternative to the loop: is the compiled step in a Python loop
               worth its code?)
  loop_jobs    train with the standard side jobs but the probe and the grids: progress bar,
               TensorBoard scalars every 5 steps, divergence stop, checkpoints every 100 steps
  loop, fit    again, alternating, so drift hits both alike
  fixed_batch  again, last: how far the machine drifted meanwhile
Each rate is over the steps after the first `--skip` (tracing). The quality probe and the sample
grids have their own cost lines in the Trainer's log (docs/trainer.md). ExampleGen and Transform
run once first, untimed (bench/quality_curve.py's copy of the built-in data, reused).
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bootstrap  # noqa: E402

bootstrap.start()

import tf_keras as keras  # noqa: E402
from bench_data import training_batches  # noqa: E402
from quality_curve import transformed_data  # noqa: E402
from train_speed import cpu_description  # noqa: E402

from common import graph_function  # noqa: E402
from pipeline_config import PipelineConfig  # noqa: E402
from trainer_module.run import build_dcgan  # noqa: E402
from trainer_module.settings import TrainerSettings  # noqa: E402
from trainer_module.side_jobs import LoopSettings, StepHook  # noqa: E402
from trainer_module.training_loop import standard_jobs, train  # noqa: E402

STAGES = ("fixed_batch", "real_data", "loop", "fit", "loop_jobs", "loop", "fit", "fixed_batch")


def rate(times: list, skip: int, batch_size: int) -> float:
    """Images/s between the end of step `skip` and the end of the last step."""
    return (len(times) - 1 - skip) * batch_size / (times[-1] - times[skip])


def bare_step_times(config: PipelineConfig, data, steps: int, fixed: bool) -> list:
    gan = build_dcgan(TrainerSettings.of(config))
    step = graph_function(gan.train_step)
    batches = iter(training_batches(config, *data))
    batch = next(batches)
    times = []
    for index in range(steps):
        logs = step(batch if fixed else next(batches))
        if index % config.log_every_steps == 0:  # read back as often as the loop does
            float(logs["d_loss"])
        times.append(time.perf_counter())
    return times


def loop_step_times(config: PipelineConfig, data, steps: int, with_jobs: bool) -> list:
    gan = build_dcgan(TrainerSettings.of(config))
    times = []
    hook = StepHook(lambda step: times.append(time.perf_counter()))
    with tempfile.TemporaryDirectory(prefix="loop_overhead_") as work:  # checkpoints, events
        settings = LoopSettings(
            steps=steps,
            global_batch_size=config.batch_size,
            steps_per_epoch=10**9,  # no grids
            checkpoint_dir=os.path.join(work, "checkpoints"),
            checkpoint_every_steps=config.checkpoint_every_steps if with_jobs else 0,
            log_dir=os.path.join(work, "tensorboard") if with_jobs else None,
            log_every_steps=config.log_every_steps,
            eval_every_steps=0,
        )
        jobs = standard_jobs(gan, settings, on_step=hook.on_step) if with_jobs else [hook]
        train(gan, training_batches(config, *data), settings, jobs=jobs)
    return times


class _Timer(keras.callbacks.Callback):
    """The time at each batch's end, without reading the step's logs back (no host sync)."""

    _supports_tf_logs = True  # fit hands the logs as tensors and does not wait for them

    def __init__(self, times: list):
        super().__init__()
        self.times = times

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter())


def fit_step_times(config: PipelineConfig, data, steps: int) -> list:
    gan = build_dcgan(TrainerSettings.of(config))
    times = []
    gan.fit(
        training_batches(config, *data),
        epochs=1,
        steps_per_epoch=steps,
        verbose=0,
        callbacks=[_Timer(times)],
    )
    times[-1] = time.perf_counter()  # fit has returned: the last step is done
    return times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--skip", type=int, default=20)
    parser.add_argument(
        "--stages", default=",".join(STAGES), help="comma-separated, from " + ", ".join(STAGES)
    )
    args = parser.parse_args()
    config = PipelineConfig()
    data = transformed_data(config)
    print(cpu_description(), f"batch {config.batch_size}, {args.steps} steps a stage", flush=True)
    for stage in args.stages.split(","):
        if stage.startswith("loop"):
            times = loop_step_times(config, data, args.steps, stage == "loop_jobs")
        elif stage == "fit":
            times = fit_step_times(config, data, args.steps)
        else:
            times = bare_step_times(config, data, args.steps, stage == "fixed_batch")
        print(f"{stage} img_per_s={rate(times, args.skip, config.batch_size):.1f}", flush=True)


if __name__ == "__main__":
    main()
