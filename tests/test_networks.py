"""The seed's generator and discriminator: shapes and parameter counts, layer by layer."""
import numpy as np

from trainer_module.networks import build_discriminator, build_generator


def conv_params(kernel, c_in, c_out):
    return kernel * kernel * c_in * c_out + c_out


def batchnorm_params(channels):
    return 4 * channels  # gamma, beta, moving mean, moving variance


def test_generator_shape_and_parameter_count():
    g = build_generator(100)
    assert g.output_shape == (None, 64, 64, 3)
    expected = ((100 * 4 * 4 * 1024 + 4 * 4 * 1024)
                + conv_params(4, 1024, 512) + batchnorm_params(512)
                + conv_params(4, 512, 256) + batchnorm_params(256)
                + conv_params(4, 256, 128) + batchnorm_params(128)
                + conv_params(4, 128, 3))
    assert g.count_params() == expected == 12_675_459
    out = g(np.random.default_rng(0).standard_normal((2, 100)).astype(np.float32)).numpy()
    assert out.min() >= -1 and out.max() <= 1  # tanh output


def test_discriminator_shape_and_parameter_count():
    d = build_discriminator(64)
    assert d.output_shape == (None, 1)
    assert d.layers[-3].output_shape == (None, 4, 4, 1)  # last Conv(1, k4, s2) before Flatten
    expected = (conv_params(4, 3, 64)
                + conv_params(4, 64, 128) + batchnorm_params(128)
                + conv_params(4, 128, 256) + batchnorm_params(256)
                + conv_params(4, 256, 1) + (16 + 1))
    assert d.count_params() == expected == 664_530
    out = d(np.zeros((2, 64, 64, 3), np.float32)).numpy()
    assert ((out > 0) & (out < 1)).all()  # sigmoid output
