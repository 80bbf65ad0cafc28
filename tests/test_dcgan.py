"""One DCGAN train step and the exported generator's signatures."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf
import tf_keras
from margins import largest_relative_difference, measured

from common import graph_function
from pipeline_config import PipelineConfig
from trainer_module import export, pixels
from trainer_module.conditional_dcgan import ConditionalDCGAN
from trainer_module.dcgan import DCGAN
from trainer_module.precision import choose_precision, set_precision
from trainer_module.run import build_dcgan
from trainer_module.settings import TrainerSettings

SETTINGS = TrainerSettings.of(PipelineConfig())


@pytest.fixture(scope="module")
def gan():
    return build_dcgan(SETTINGS)


def test_train_step_updates_both_networks_with_finite_losses(gan):
    before_g = [w.numpy().copy() for w in gan.generator.trainable_weights]
    before_d = [w.numpy().copy() for w in gan.discriminator.trainable_weights]
    real = tf.random.stateless_uniform([8, 64, 64, 3], [1, 0], -1, 1)
    logs = {k: float(v) for k, v in graph_function(gan.train_step)(real).items()}
    assert all(np.isfinite(v) for v in logs.values()), logs
    assert 0 < logs["d_real"] < 1 and 0 < logs["d_fake"] < 1
    changed_g = [
        not np.array_equal(b, w.numpy()) for b, w in zip(before_g, gan.generator.trainable_weights)
    ]
    changed_d = [
        not np.array_equal(b, w.numpy())
        for b, w in zip(before_d, gan.discriminator.trainable_weights)
    ]
    assert all(changed_g) and all(changed_d)
    assert int(gan.g_optimizer.iterations) == 1 and int(gan.d_optimizer.iterations) == 1


def test_noisy_labels_follow_the_seed_ranges():
    seed_labels = build_dcgan(
        dataclasses.replace(SETTINGS, real_label_noise=0.5, fake_label_noise=0.25)
    )
    real, fake = seed_labels.noisy_labels(10_000)
    real, fake = real.numpy(), fake.numpy()
    assert 0.5 <= real.min() and real.max() <= 1.5 and abs(real.mean() - 1.0) < 0.02
    assert 0.0 <= fake.min() and fake.max() <= 0.25 and abs(fake.mean() - 0.125) < 0.01


def test_label_flipping_swaps_real_and_fake_labels_at_the_configured_rate():
    flipping = build_dcgan(dataclasses.replace(SETTINGS, label_flip_probability=0.3))
    real, fake = (labels.numpy().ravel() for labels in flipping.noisy_labels(10_000))
    flipped = real <= 0.25  # a fake-range label where a real one belongs
    assert abs(flipped.mean() - 0.3) < 0.02
    assert (fake[flipped] >= 0.5).all() and (fake[~flipped] <= 0.25).all()


def test_exported_generator_signatures(gan, tmp_path):
    export.export_generator(gan.generator, str(tmp_path), z_dim=100)
    loaded = tf.saved_model.load(str(tmp_path))
    serve = loaded.signatures["serving_default"]
    assert serve.structured_input_signature[1]["z"].shape.as_list() == [None, 100]
    z = np.random.default_rng(0).standard_normal((3, 100)).astype(np.float32)
    images = serve(z=tf.constant(z))["images"]
    assert images.dtype == tf.uint8 and images.shape == (3, 64, 64, 3)
    expected = pixels.to_uint8(gan.generator(z, training=False)).numpy()
    np.testing.assert_array_equal(images.numpy(), expected)

    sample = loaded.signatures["sample"]
    first = sample(count=tf.constant(4), seed=tf.constant(7, tf.int64))["images"].numpy()
    again = sample(count=tf.constant(4), seed=tf.constant(7, tf.int64))["images"].numpy()
    other = sample(count=tf.constant(4), seed=tf.constant(8, tf.int64))["images"].numpy()
    assert first.shape == (4, 64, 64, 3)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def attribute_weights(discriminator, conditioning):
    """What in D reads (or, auxiliary, tells) the attributes."""
    name = {"projection": "attribute_embedding", "auxiliary": "attribute_logits"}[conditioning]
    return [w for w in discriminator.weights if name in w.name][0].numpy()


TEACHERS = {"d_attribute_weight": 1.0, "g_attribute_weight": 10.0, "mismatch_weight": 0.5}


@pytest.mark.parametrize(
    "conditioning, teachers",
    [
        ("projection", {"d_attribute_weight": 0.0, "g_attribute_weight": 0.0}),
        ("auxiliary", {}),  # the default recipe
        ("projection", TEACHERS),
    ],
)
def test_a_conditional_step_trains_what_reads_the_attributes(conditioning, teachers):
    """G's weights on the attribute inputs and D's attribute part learn from the step, and
    D's output depends on the attributes (auxiliary: its loss does)."""
    names = ("Smiling", "Male", "Eyeglasses")
    gan = build_dcgan(
        dataclasses.replace(
            SETTINGS, conditional=True, conditioning=conditioning, attributes=names, **teachers
        )
    )
    first_dense = [layer for layer in gan.generator.layers if type(layer).__name__ == "Dense"][0]

    def g_attribute_rows():
        return first_dense.kernel.numpy()[100:]  # after z's rows

    def g_modulation():
        return np.concatenate(
            [w.numpy().ravel() for w in gan.generator.weights if "attribute_modulation" in w.name]
        )

    def d_attribute_part():
        return attribute_weights(gan.discriminator, conditioning)

    before_g, before_d, before_m = g_attribute_rows(), d_attribute_part(), g_modulation()
    assert before_g.shape == (3, 4 * 4 * SETTINGS.generator_filters)
    real = tf.random.stateless_uniform([8, 64, 64, 3], [1, 0], -1, 1)
    codes = tf.constant(np.random.default_rng(0).choice([-1.0, 1.0], (8, 3)), tf.float32)
    logs = {k: float(v) for k, v in graph_function(gan.train_step)((real, codes)).items()}
    assert all(np.isfinite(v) for v in logs.values()), logs
    assert not np.array_equal(before_g, g_attribute_rows())
    assert not np.array_equal(before_m, g_modulation())  # every block's modulation learns too
    assert not np.array_equal(before_d, d_attribute_part())
    if len(gan.discriminator.outputs) == 2:  # the head: its logits are scored against the codes
        head = [w for w in gan.discriminator.weights if "attribute_logits" in w.name][0]
        assert np.abs(head.numpy()).sum() > 0
        inputs = real if conditioning == "auxiliary" else [real, codes]
        _, logits = gan.discriminator(inputs, training=False)
        assert logits.shape == (8, 3)
        assert float(gan.attribute_loss(codes, logits)) != float(gan.attribute_loss(-codes, logits))
        unknown = tf.zeros_like(codes)  # 0: unknown, counts for nothing
        assert float(gan.attribute_loss(unknown, logits)) == 0.0
    if conditioning != "auxiliary":
        scores = np.asarray(tf.nest.flatten(gan.discriminator([real, codes], training=False))[0])
        flipped = tf.nest.flatten(gan.discriminator([real, -codes], training=False))[0]
        assert not np.allclose(scores, np.asarray(flipped))


def test_the_conditional_loss_weights_leave_an_unconditional_step_as_it_is():
    """The default config carries the conditional recipe's weights; an unconditional model
    (no codes, no head) trains the same with them, a mismatch weight included."""
    real = tf.random.stateless_uniform([8, 64, 64, 3], [1, 0], -1, 1)
    logs = [
        {
            k: float(v)
            for k, v in graph_function(
                build_dcgan(dataclasses.replace(SETTINGS, **weights)).train_step
            )(real).items()
        }
        for weights in (
            {"d_attribute_weight": 0.0, "g_attribute_weight": 0.0},
            {"mismatch_weight": 0.5},
        )
    ]
    assert logs[0] == logs[1]


def test_fakes_are_asked_for_the_first_half_of_the_attributes_twice():
    rows = tf.constant([[1.0], [2.0], [3.0], [4.0], [5.0]])
    assert ConditionalDCGAN.asked_twice(rows).numpy().ravel().tolist() == [1.0, 2.0, 1.0, 2.0, 5.0]


def test_the_mode_seeking_loss_grows_as_pairs_asked_alike_look_alike():
    gan = build_dcgan(dataclasses.replace(SETTINGS, conditional=True, attributes=("Smiling",)))
    z = tf.random.stateless_normal([8, 100], seed=[1, 2])
    faces = tf.random.stateless_uniform([4, 64, 64, 3], seed=[3, 4], minval=-1, maxval=1)
    apart = float(gan.mode_seeking_loss(z, tf.concat([faces, -faces], axis=0)))
    alike = float(gan.mode_seeking_loss(z, tf.concat([faces, faces + 0.01], axis=0)))
    assert alike > 50 * apart > 0
    assert type(build_dcgan(SETTINGS)) is DCGAN  # unconditional: none of the attribute terms


def test_a_conditional_export_takes_attributes_and_honours_a_request(tmp_path):
    names = ("Smiling", "Male", "Eyeglasses")
    gan = build_dcgan(dataclasses.replace(SETTINGS, conditional=True, attributes=names))
    table = np.array([[1, -1, -1], [-1, 1, 1], [1, 1, -1]], np.float32)
    export.export_generator(
        gan.generator,
        str(tmp_path),
        z_dim=100,
        training_config={"attributes": list(names)},
        attribute_table=table,
    )
    loaded = tf.saved_model.load(str(tmp_path))
    np.testing.assert_array_equal(loaded.attribute_table.numpy(), table)
    serve = loaded.signatures["serving_default"]
    inputs = serve.structured_input_signature[1]
    assert inputs["z"].shape.as_list() == [None, 100]
    assert inputs["attributes"].shape.as_list() == [None, 3]
    z = np.random.default_rng(0).standard_normal((2, 100)).astype(np.float32)
    images = serve(z=tf.constant(z), attributes=tf.constant(table[:2]))["images"].numpy()
    expected = pixels.to_uint8(gan.generator(np.concatenate([z, table[:2]], 1), training=False))
    np.testing.assert_array_equal(images, expected.numpy())

    sample = loaded.signatures["sample"]
    assert set(sample.structured_input_signature[1]) == {"count", "seed", "attributes"}

    def draw(request, seed=7):
        return sample(
            count=tf.constant(4),
            seed=tf.constant(seed, tf.int64),
            attributes=tf.constant(request, tf.float32),
        )["images"].numpy()

    eyeglasses = draw([0, 0, 1])  # only the row "Male with eyeglasses" has them
    stored_z = tf.random.stateless_normal([4, 100], seed=[7, 0]).numpy()
    row = np.tile(table[1], (4, 1))
    np.testing.assert_array_equal(
        eyeglasses,
        pixels.to_uint8(gan.generator(np.concatenate([stored_z, row], 1), training=False)).numpy(),
    )
    np.testing.assert_array_equal(eyeglasses, draw([0, 0, 1]))
    assert not np.array_equal(eyeglasses, draw([0, 0, -1]))


def test_to_uint8_rule():
    out = pixels.to_uint8(tf.constant([-1.5, -1.0, 0.0, 1.0, 2.0])).numpy()
    assert out.tolist() == [0, 0, 128, 255, 255]


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_a_mixed_precision_step_trains_and_keeps_float32_weights_and_images(policy):
    """bf16 (CPU bf16 instructions) and float16 (GPUs, loss-scaled) steps on this CPU."""
    set_precision(policy)
    try:
        mixed = build_dcgan(SETTINGS)
    finally:
        set_precision("float32")
    assert isinstance(mixed.g_optimizer, tf_keras.mixed_precision.LossScaleOptimizer) == (
        policy == "mixed_float16"
    )
    before = mixed.generator.trainable_weights[0].numpy().copy()
    logs = graph_function(mixed.train_step)(
        tf.random.stateless_uniform([8, 64, 64, 3], [1, 0], -1, 1)
    )
    assert all(np.isfinite(float(v)) for v in logs.values()), logs
    assert not np.array_equal(before, mixed.generator.trainable_weights[0].numpy())
    assert mixed.generator.trainable_weights[0].dtype == tf.float32
    assert mixed.generator(tf.zeros([2, 100]), training=False).dtype == tf.float32


AMD_EPYC_FLAGS = "fpu sse2 avx2 avx512f avx512_vnni avx512_bf16 avx512_vbmi"  # AVX512_BF16
XEON_AMX_FLAGS = "fpu sse2 avx2 avx512f avx512_bf16 amx_bf16 amx_tile amx_int8"
AVX2_FLAGS = "fpu sse2 avx avx2 fma"


@pytest.mark.parametrize(
    "precision, flags, gpus, policy, why",
    [
        ("auto", AMD_EPYC_FLAGS, 0, "mixed_bfloat16", "auto: the CPU has avx512_bf16"),
        ("auto", XEON_AMX_FLAGS, 0, "mixed_bfloat16", "auto: the CPU has amx_bf16"),
        ("auto", AVX2_FLAGS, 0, "float32", "auto: the CPU has none of amx_bf16, avx512_bf16"),
        ("auto", "", 0, "float32", "auto: the CPU has none of amx_bf16, avx512_bf16"),  # no cpuinfo
        ("auto", AMD_EPYC_FLAGS, 1, "float32", "auto: 1 GPU(s), bfloat16 unmeasured there"),
        ("float32", AMD_EPYC_FLAGS, 0, "float32", "as configured"),  # the article's numerics
        ("mixed_bfloat16", AVX2_FLAGS, 0, "mixed_bfloat16", "as configured"),
    ],
)
def test_the_precision_follows_the_cpu_when_auto(precision, flags, gpus, policy, why):
    assert choose_precision(precision, flags, gpus) == (policy, why)


def test_the_default_precision_is_auto_and_a_wrong_one_is_named():
    assert SETTINGS.precision == "auto"
    with pytest.raises(ValueError, match=r"precision must be one of \('auto', 'float32'"):
        choose_precision("bf16", AMD_EPYC_FLAGS, 0)


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="precision must be one of"):
        set_precision("float8")


def test_least_squares_loss_trains_a_discriminator_without_sigmoid():
    """LSGAN: D outputs unbounded scores and the losses are mean squared distances to the labels."""
    lsgan = build_dcgan(
        dataclasses.replace(
            SETTINGS, loss="least_squares", real_label_noise=0.0, fake_label_noise=0.0
        )
    )
    assert lsgan.discriminator.layers[-1].get_config()["activation"] == "linear"
    real = tf.random.stateless_uniform([8, 64, 64, 3], [1, 0], -1, 1)
    z = lsgan.rng.normal([8, 100])  # what train_step will draw next, from a copy of the state
    lsgan.rng.reset_from_seed(SETTINGS.train_seed)
    fake_scores = lsgan.discriminator(lsgan.generator(z, training=True), training=True).numpy()
    real_scores = lsgan.discriminator(real, training=True).numpy()
    logs = {k: float(v) for k, v in graph_function(lsgan.train_step)(real).items()}
    expected = {
        "d_loss": np.mean((real_scores - 1) ** 2) + np.mean(fake_scores**2),
        "g_loss": np.mean((fake_scores - 1) ** 2),
    }
    # Measured 2026-12-07 (docs/tests.md, Margins; AMD EPYC AVX-512 / oneDNN capped at AVX2): 0 / 0.
    measured(
        "LSGAN losses against the squared distances, largest relative difference",
        largest_relative_difference(logs, expected),
        1e-4,
    )
    for name, value in expected.items():
        np.testing.assert_allclose(logs[name], value, rtol=1e-4, err_msg=name)


def test_unknown_loss_is_refused():
    with pytest.raises(ValueError, match="loss must be one of"):
        build_dcgan(dataclasses.replace(SETTINGS, loss="hinge"))
