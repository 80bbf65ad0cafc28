"""BN re-estimation: the moving statistics become the average batch statistics."""

import numpy as np
import tf_keras as keras
from test_networks import seed_generator

from trainer_module.batchnorm import refresh_batchnorm_statistics


def test_moving_statistics_match_batch_statistics_after_refresh():
    keras.utils.set_random_seed(0)
    g = seed_generator()
    bn = [layer for layer in g.layers if isinstance(layer, keras.layers.BatchNormalization)][0]
    assert np.allclose(bn.moving_mean.numpy(), 0) and np.allclose(bn.moving_variance.numpy(), 1)
    refresh_batchnorm_statistics(g, 100, batches=4, batch_size=32)
    assert bn.momentum == 0.99  # restored
    # The first BN sees Dense(z) reshaped: its batch mean is far from the initial 0 per channel.
    z = np.random.default_rng(5).standard_normal((512, 100)).astype(np.float32)
    pre_bn = keras.Sequential(g.layers[:3])(z).numpy()  # Dense -> Reshape -> ConvT
    expected_var = pre_bn.reshape(-1, pre_bn.shape[-1]).var(axis=0)
    np.testing.assert_allclose(bn.moving_variance.numpy(), expected_var, rtol=0.25)
    assert not np.allclose(bn.moving_variance.numpy(), 1.0, rtol=0.1)
    # Inference now behaves like training-mode normalisation on a large batch.
    out_infer = g(z, training=False).numpy()
    out_train = g(z, training=True).numpy()
    assert np.abs(out_infer - out_train).mean() < 0.05
