"""The seed's generator and discriminator: shapes and parameter counts, layer by layer."""

import numpy as np
import pytest
import tf_keras

from pipeline_config import PipelineConfig
from trainer_module.networks import (
    AttributeModulation,
    MinibatchStddev,
    build_discriminator,
    build_generator,
)
from trainer_module.run import build_dcgan
from trainer_module.seed_recipe import SEED_GENERATOR_FILTERS, SEED_RECIPE
from trainer_module.settings import TrainerSettings

# The seed's networks, which these tests count layer by layer; a test changes what it varies.
SEED_GENERATOR = dict(
    z_dim=100, variant="seed", image_size=64, attributes=0, filters=SEED_GENERATOR_FILTERS
)
SEED_DISCRIMINATOR = dict(
    image_size=64,
    variant="seed",
    output="probability",
    attributes=0,
    conditioning="projection",
    filters=64,
    attribute_head=False,
)


def seed_generator(**changes):
    return build_generator(**{**SEED_GENERATOR, **changes})


def seed_discriminator(**changes):
    return build_discriminator(**{**SEED_DISCRIMINATOR, **changes})


def conv_params(kernel, c_in, c_out):
    return kernel * kernel * c_in * c_out + c_out


def batchnorm_params(channels):
    return 4 * channels  # gamma, beta, moving mean, moving variance


def test_generator_shape_and_parameter_count():
    g = seed_generator()
    assert g.output_shape == (None, 64, 64, 3)
    expected = (
        (100 * 4 * 4 * 1024 + 4 * 4 * 1024)
        + conv_params(4, 1024, 512)
        + batchnorm_params(512)
        + conv_params(4, 512, 256)
        + batchnorm_params(256)
        + conv_params(4, 256, 128)
        + batchnorm_params(128)
        + conv_params(4, 128, 3)
    )
    assert g.count_params() == expected == 12_675_459
    out = g(np.random.default_rng(0).standard_normal((2, 100)).astype(np.float32)).numpy()
    assert out.min() >= -1 and out.max() <= 1  # tanh output


def test_discriminator_shape_and_parameter_count():
    d = seed_discriminator()
    assert d.output_shape == (None, 1)
    last_conv = [layer for layer in d.layers if layer.__class__.__name__ == "Conv2D"][-1]
    assert last_conv.output_shape == (None, 4, 4, 1)  # Conv(1, k4, s2) before Flatten
    expected = (
        conv_params(4, 3, 64)
        + conv_params(4, 64, 128)
        + batchnorm_params(128)
        + conv_params(4, 128, 256)
        + batchnorm_params(256)
        + conv_params(4, 256, 1)
        + (16 + 1)
    )
    assert d.count_params() == expected == 664_530
    out = d(np.zeros((2, 64, 64, 3), np.float32)).numpy()
    assert ((out > 0) & (out < 1)).all()  # sigmoid output


def test_the_default_generator_is_pytorchs_dcgan_width_and_the_seed_recipe_the_seeds():
    """The Trainer's default G has PyTorch's example's widths (ngf = 64: 512, 256, 128, 64 feature
    maps); SEED_RECIPE gives back the seed's G, batch and noisy labels."""
    default = build_dcgan(TrainerSettings.of(PipelineConfig())).generator
    assert default.layers[0].units == 4 * 4 * 512
    assert [
        layer.filters for layer in default.layers if layer.__class__.__name__ == "Conv2DTranspose"
    ] == [256, 128, 64, 3]
    assert default.count_params() == 3_585_219
    seed = TrainerSettings.of(PipelineConfig().with_overrides(**SEED_RECIPE))
    assert build_dcgan(seed).generator.count_params() == 12_675_459  # the seed's G, above
    assert (seed.batch_size, seed.real_label_noise, seed.fake_label_noise) == (128, 0.5, 0.25)


def test_paper_variant_uses_relu_in_g_and_dcgan_initialisation():
    g = seed_generator(variant="paper")
    d = seed_discriminator(variant="paper")
    assert g.count_params() == seed_generator().count_params()
    kinds = [layer.__class__.__name__ for layer in g.layers]
    assert kinds.count("ReLU") == 3 and "LeakyReLU" not in kinds
    kernel = g.layers[0].kernel.numpy()
    assert abs(kernel.std() - 0.02) < 0.002 and abs(kernel.mean()) < 0.001
    gammas = np.concatenate(
        [
            layer.gamma.numpy()
            for layer in d.layers
            if layer.__class__.__name__ == "BatchNormalization"
        ]
    )
    assert abs(gammas.mean() - 1.0) < 0.01 and 0.01 < gammas.std() < 0.03


def test_seed_variant_uses_leaky_relu_in_g():
    kinds = [layer.__class__.__name__ for layer in seed_generator().layers]
    assert kinds.count("LeakyReLU") == 3 and "ReLU" not in kinds


def test_128_px_adds_one_block_to_each_network_as_the_common_128_px_dcgan():
    g = seed_generator(image_size=128)
    assert g.output_shape == (None, 128, 128, 3)
    filters = [layer.filters for layer in g.layers if layer.__class__.__name__ == "Conv2DTranspose"]
    assert filters == [512, 256, 128, 64, 3]
    assert g.count_params() == (
        seed_generator().count_params()
        - conv_params(4, 128, 3)
        + conv_params(4, 128, 64)
        + batchnorm_params(64)
        + conv_params(4, 64, 3)
    )
    d = seed_discriminator(image_size=128)
    convs = [layer for layer in d.layers if layer.__class__.__name__ == "Conv2D"]
    assert [layer.filters for layer in convs] == [64, 128, 256, 512, 1]
    assert convs[-1].output_shape == (None, 4, 4, 1)
    assert d(np.zeros((2, 128, 128, 3), np.float32)).shape == (2, 1)


def test_the_widths_scale_every_block_as_pytorch_dcgans_ngf_and_ndf():
    g = seed_generator(filters=128)
    assert g.layers[0].units == 4 * 4 * 128
    filters = [layer.filters for layer in g.layers if layer.__class__.__name__ == "Conv2DTranspose"]
    assert filters == [64, 32, 16, 3]
    assert g.output_shape == (None, 64, 64, 3)
    d = seed_discriminator(filters=16)
    convs = [layer.filters for layer in d.layers if layer.__class__.__name__ == "Conv2D"]
    assert convs == [16, 32, 64, 1]
    assert d.count_params() < seed_discriminator().count_params() / 10


def test_a_generator_too_narrow_for_its_blocks_is_refused_as_the_settings_are_built():
    with pytest.raises(ValueError, match="generator_filters must be at least 16 at 128 px"):
        seed_generator(image_size=128, filters=8)
    with pytest.raises(ValueError, match="generator_filters must be at least 8 at 64 px"):
        TrainerSettings.of(PipelineConfig(generator_filters=4))
    with pytest.raises(ValueError, match="discriminator_filters must be at least 1"):
        TrainerSettings.of(PipelineConfig(discriminator_filters=0))


@pytest.mark.parametrize("size", [48, 16, 100])
def test_an_image_size_that_is_not_a_power_of_two_from_32_is_refused(size):
    with pytest.raises(ValueError, match="power of two from 32"):
        seed_generator(image_size=size)


SPREAD_KERNEL = 4 * 4 * 1  # the score convolution's kernel on the batch-spread plane


def test_the_spread_plane_is_the_batch_standard_deviation_averaged():
    maps = np.random.default_rng(3).normal(size=(5, 4, 4, 2)).astype(np.float32)
    out = MinibatchStddev()(maps).numpy()
    assert out.shape == (5, 4, 4, 3)
    np.testing.assert_array_equal(out[..., :2], maps)
    np.testing.assert_allclose(out[..., 2], maps.std(axis=0).mean(), rtol=1e-5)
    same = np.repeat(maps[:1], 5, axis=0)  # a batch of one face repeated: no spread
    assert MinibatchStddev()(same).numpy()[..., 2].max() < 1e-3


def test_a_conditional_generator_takes_the_attribute_codes_after_z():
    g = seed_generator(attributes=15)
    assert g.input_shape == (None, 115) and g.output_shape == (None, 64, 64, 3)
    modulation = 2 * 15 * (512 + 256 + 128)  # a scale and a shift per attribute and channel
    assert g.count_params() == seed_generator().count_params() + 15 * 4 * 4 * 1024 + modulation


def deaf_first_layer(g):
    """G with its first layer's attribute rows zeroed: only the modulated blocks read the codes."""
    dense = [layer for layer in g.layers if isinstance(layer, tf_keras.layers.Dense)][0]
    kernel, bias = dense.get_weights()
    dense.set_weights([np.concatenate([kernel[:100], np.zeros_like(kernel[100:])]), bias])
    return g


def asked_on_and_off(g, count=4):
    z = np.random.default_rng(0).normal(size=(count, 100)).astype(np.float32)
    return [
        g(np.concatenate([z, np.full((count, 3), code, np.float32)], axis=1)).numpy()
        for code in (1.0, -1.0)
    ]


def test_the_attribute_modulation_starts_at_zero():
    """With the first layer's attribute rows zeroed, a new G's blocks ignore the codes until
    training teaches them what the codes mean."""
    tf_keras.utils.set_random_seed(4)
    on, off = asked_on_and_off(deaf_first_layer(seed_generator(attributes=3)))
    np.testing.assert_allclose(on, off, atol=1e-6)


def test_every_block_of_a_conditional_generator_hears_the_request():
    """The same deaf first layer, with the modulation trained away from zero: the codes now
    change the faces, through the blocks alone."""
    g = deaf_first_layer(seed_generator(attributes=3))
    modulations = [layer for layer in g.layers if isinstance(layer, AttributeModulation)]
    assert [layer.scale.shape[-1] for layer in modulations] == [512, 256, 128]
    for layer in modulations:
        layer.set_weights([np.full(w.shape, 0.3, np.float32) for w in layer.get_weights()])
    on, off = asked_on_and_off(g)
    assert np.abs(on - off).mean() > 0.01


LAST_MAPS = 8 * 8 * 256  # D's last feature maps at 64 px, flattened


def test_a_projection_discriminator_adds_only_what_reads_the_attributes():
    d = seed_discriminator(attributes=15, conditioning="projection")
    extra = 15 * LAST_MAPS  # one template of D's last feature maps per attribute
    assert d.count_params() == seed_discriminator().count_params() + extra + SPREAD_KERNEL
    images = np.random.default_rng(0).uniform(-1, 1, (4, 64, 64, 3)).astype(np.float32)
    codes = np.random.default_rng(1).choice([-1.0, 1.0], (4, 15)).astype(np.float32)
    # zero at the start: D begins unconditional
    np.testing.assert_array_equal(d([images, codes]).numpy(), d([images, -codes]).numpy())
    embedding = d.get_layer("attribute_embedding")
    embedding.set_weights([np.random.default_rng(2).normal(0, 0.01, (15, LAST_MAPS))])
    out = d([images, codes]).numpy()
    assert out.shape == (4, 1) and ((out > 0) & (out < 1)).all()
    assert not np.allclose(out, d([images, -codes]).numpy())  # the score reads the codes


def test_an_auxiliary_discriminator_tells_the_attributes_from_the_image_alone():
    d = seed_discriminator(attributes=15, conditioning="auxiliary")
    assert d.count_params() == (
        seed_discriminator().count_params() + LAST_MAPS * 15 + 15 + SPREAD_KERNEL
    )
    scores, logits = d(np.zeros((2, 64, 64, 3), np.float32))
    assert scores.shape == (2, 1) and logits.shape == (2, 15)


def test_a_projection_discriminator_with_the_head_reads_codes_and_tells_attributes():
    d = seed_discriminator(attributes=15, conditioning="projection", attribute_head=True)
    assert d.count_params() == (
        seed_discriminator(attributes=15).count_params() + LAST_MAPS * 15 + 15
    )
    scores, logits = d([np.zeros((2, 64, 64, 3), np.float32), np.ones((2, 15), np.float32)])
    assert scores.shape == (2, 1) and logits.shape == (2, 15)


def test_an_unknown_conditioning_is_refused():
    with pytest.raises(ValueError, match="conditioning must be one of"):
        seed_discriminator(attributes=3, conditioning="hypernetwork")
