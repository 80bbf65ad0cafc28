"""The moving average of G's weights: its update rule, its checkpoint, and that exports use it."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf
import tf_keras
from margins import measured, tolerance_used

from common import graph_function
from pipeline_config import PipelineConfig
from trainer_module.batchnorm import ExportView
from trainer_module.run import build_dcgan
from trainer_module.settings import TrainerSettings
from trainer_module.side_jobs import LoopSettings
from trainer_module.training_loop import standard_jobs, train
from trainer_module.weight_average import WeightAverage

SETTINGS = dataclasses.replace(TrainerSettings.of(PipelineConfig()), generator_ema_decay=0.9)


def one_weight_model(value: float) -> tf_keras.Model:
    model = tf_keras.Sequential([tf_keras.Input([1]), tf_keras.layers.Dense(1, use_bias=False)])
    model.set_weights([np.full((1, 1), value, np.float32)])
    return model


def test_the_average_follows_the_weights_with_a_ramped_up_decay():
    model = one_weight_model(0.0)
    average = WeightAverage(model, decay=0.9)
    expected = 0.0
    for n, value in enumerate([10.0, 20.0, 30.0, 40.0, 50.0], start=1):
        model.set_weights([np.full((1, 1), value, np.float32)])
        average.update()
        decay = min(0.9, (1 + n) / (10 + n))  # 2/11, 3/12, ... while below 0.9
        expected = decay * expected + (1 - decay) * value
        assert float(average.averages[0][0, 0]) == pytest.approx(expected, rel=1e-6)
    assert float(average.current_decay()) == pytest.approx(6 / 15)
    for _ in range(200):  # long after the ramp the decay is the configured one
        average.update()
    assert float(average.current_decay()) == pytest.approx(0.9)


def test_copy_to_puts_the_averages_into_another_model_and_leaves_the_followed_one():
    model = one_weight_model(4.0)
    average = WeightAverage(model, decay=0.5)
    model.set_weights([np.full((1, 1), 8.0, np.float32)])
    average.update()  # decay min(0.5, 2/11): 4 * 2/11 + 8 * 9/11
    target = one_weight_model(0.0)
    average.copy_to(target)
    assert target.get_weights()[0].item() == pytest.approx(4 * 2 / 11 + 8 * 9 / 11)
    assert model.get_weights()[0].item() == 8.0


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.5])
def test_a_decay_outside_zero_to_one_is_refused(decay):
    with pytest.raises(ValueError, match="decay must be in"):
        WeightAverage(one_weight_model(0.0), decay)


def test_no_average_is_kept_when_off():
    assert (
        build_dcgan(dataclasses.replace(SETTINGS, generator_ema_decay=0.0)).generator_average
        is None
    )


def test_every_g_step_updates_the_average_and_the_export_view_draws_it():
    gan = build_dcgan(SETTINGS)
    step = graph_function(gan.train_step)
    for seed in range(3):
        step(tf.random.stateless_uniform([8, 64, 64, 3], [seed, 0], -1, 1))
    average = gan.generator_average
    assert int(average.updates) == 3 == int(gan.g_optimizer.iterations)
    live = gan.generator.trainable_weights
    assert any(not np.allclose(a.numpy(), w.numpy()) for a, w in zip(average.averages, live))
    drawn = ExportView(gan.generator, SETTINGS.z_dim, average).refresh()
    for weight, averaged in zip(drawn.trainable_weights, average.averages):
        np.testing.assert_array_equal(weight.numpy(), averaged.numpy())


def test_a_resumed_run_continues_the_average_it_checkpointed(tmp_path):
    """Two steps, stop, resume for two more: the same average as four uninterrupted steps."""
    # One batch over and over: a resumed run restarts the dataset, not the networks' state.
    batches = tf.data.Dataset.from_tensors(
        tf.random.stateless_uniform([8, 64, 64, 3], [7, 0], -1, 1)
    ).repeat()

    def run(steps, checkpoint_dir):
        gan = build_dcgan(SETTINGS)
        loop = LoopSettings(
            steps=steps,
            global_batch_size=8,
            steps_per_epoch=100,
            checkpoint_dir=str(checkpoint_dir),
            checkpoint_every_steps=1,
            log_dir=None,
            log_every_steps=1,
            eval_every_steps=0,
        )
        train(gan, batches, loop, jobs=standard_jobs(gan, loop))
        return gan.generator_average

    whole = run(4, tmp_path / "whole")
    run(2, tmp_path / "resumed")
    resumed = run(4, tmp_path / "resumed")  # restores step 2, then steps 3 and 4
    assert int(resumed.updates) == 4
    # Measured 2026-12-07 (docs/tests.md, Margins; AMD EPYC AVX-512 / oneDNN capped at AVX2): 0 / 0.
    measured(
        "weight average, resumed against whole, share of the tolerance used",
        max(
            tolerance_used(b.numpy(), a.numpy(), rtol=1e-4, atol=1e-6)
            for a, b in zip(whole.averages, resumed.averages)
        ),
        1.0,
    )
    for a, b in zip(whole.averages, resumed.averages):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6)
