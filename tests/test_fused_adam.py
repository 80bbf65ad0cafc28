"""FusedAdam (trainer_module/fused_adam.py) is Keras' Adam, its dense update done by TensorFlow's
fused kernel: the same weights within float32 rounding, the same variables in a checkpoint."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from trainer_module.fused_adam import FusedAdam


def train_both(steps: int, **adam_arguments):
    """The same random gradients through Keras' Adam and FusedAdam; both variables after."""
    rng = np.random.default_rng(0)
    start = rng.normal(size=(40, 30)).astype("float32")
    keras_weight, fused_weight = tf.Variable(start), tf.Variable(start)
    keras_adam = keras.optimizers.Adam(**adam_arguments)
    fused_adam = FusedAdam(**adam_arguments)

    @tf.function(autograph=False)
    def step(gradient):
        keras_adam.apply_gradients([(gradient, keras_weight)])
        fused_adam.apply_gradients([(gradient, fused_weight)])

    for _ in range(steps):
        step(tf.constant(rng.normal(size=start.shape).astype("float32")))
    return start, keras_weight.numpy(), fused_weight.numpy(), keras_adam, fused_adam


@pytest.mark.parametrize(
    "arguments",
    [dict(learning_rate=2e-4, beta_1=0.5), dict(learning_rate=1e-2, beta_1=0.9, epsilon=1e-3)],
)
def test_fused_adam_takes_keras_adams_steps(arguments):
    start, keras_result, fused_result, keras_adam, fused_adam = train_both(60, **arguments)
    moved = np.abs(keras_result - start).max()
    # the weights did move: Adam moves each by up to about the learning rate a step
    assert moved > 25 * arguments["learning_rate"]
    # float32 rounding of a different order of operations: a few units in the last place
    np.testing.assert_allclose(fused_result, keras_result, rtol=0, atol=4e-6)
    for keras_slot, fused_slot in zip(keras_adam.variables, fused_adam.variables):
        np.testing.assert_allclose(fused_slot.numpy(), keras_slot.numpy(), rtol=1e-4, atol=1e-9)


def test_a_checkpoint_of_keras_adam_resumes_in_fused_adam(tmp_path):
    """The optimizer's variables are Keras' own: a run checkpointed before the change resumes."""
    _, keras_result, _, keras_adam, _ = train_both(5, learning_rate=2e-4, beta_1=0.5)
    path = tf.train.Checkpoint(optimizer=keras_adam).save(str(tmp_path / "ckpt"))

    fused_adam = FusedAdam(learning_rate=2e-4, beta_1=0.5)
    fused_adam.build([tf.Variable(np.zeros_like(keras_result))])  # as a restored model's weight
    tf.train.Checkpoint(optimizer=fused_adam).restore(path).assert_existing_objects_matched()
    assert int(fused_adam.iterations) == 5
    for keras_slot, fused_slot in zip(keras_adam.variables, fused_adam.variables):
        np.testing.assert_array_equal(fused_slot.numpy(), keras_slot.numpy())


def test_sparse_gradients_take_keras_adams_own_update():
    table = tf.Variable(tf.ones([6, 3]))
    adam = FusedAdam(learning_rate=0.1)
    gradient = tf.IndexedSlices(tf.ones([2, 3]), tf.constant([1, 4]), tf.constant([6, 3]))
    adam.apply_gradients([(gradient, table)])
    changed = np.any(table.numpy() != 1.0, axis=1)
    assert changed.tolist() == [False, True, False, False, True, False]
