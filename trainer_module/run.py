"""TFX Trainer entry point (`run_fn`): trains the DCGAN on Transform's output and exports G.

Every hyperparameter arrives as TrainerSettings (trainer_module/settings.py) in
`fn_args.custom_config`, built by pipeline_config.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

from common import ATTRIBUTE_PREFIX, IMAGE_KEY, SAMPLES_DIR, TENSORBOARD_DIR, process_state_kept
from metrics import prdc
from trainer_module import conditions, export, networks, pixels
from trainer_module.batchnorm import ExportView, refresh_batchnorm_statistics
from trainer_module.checkpoints import remove_worker_path, worker_path
from trainer_module.conditional_dcgan import ConditionalDCGAN
from trainer_module.dcgan import DCGAN, discriminator_output
from trainer_module.distribution import choose_strategy, wait_for_chief_export
from trainer_module.fused_adam import FusedAdam
from trainer_module.precision import use_precision
from trainer_module.quality_probe import QualityProbe
from trainer_module.settings import TrainerSettings
from trainer_module.side_jobs import LoopSettings, QualityScores, SampleGrids
from trainer_module.training_loop import standard_jobs, train
from trainer_module.transformed_examples import real_attribute_codes, real_image_batches

# Density and coverage need each real image's 5th nearest other one: at least 6 images.
MIN_PROBE_IMAGES = prdc.DENSITY_COVERAGE_K + 1
PROBE_READ_BATCH = 250
ATTRIBUTE_TABLE_ROWS = 10000  # real attribute rows a conditional model carries


# What the Vertex AI Trainer (tfx.extensions.google_cloud_ai_platform, chosen by
# pipeline/kubeflow_runner.py for several workers) keeps in the Trainer's custom_config for
# itself: the CustomJob to start and where. It reaches run_fn beside the settings.
CLOUD_TRAINER_KEYS = (
    "ai_platform_training_args",
    "ai_platform_enable_vertex",
    "ai_platform_vertex_region",
)


def trainer_settings(custom_config: dict) -> TrainerSettings:
    """The settings in the Trainer's custom_config, less the Vertex AI Trainer's own keys."""
    return TrainerSettings.from_custom_config(
        {key: value for key, value in custom_config.items() if key not in CLOUD_TRAINER_KEYS}
    )


def image_dataset(
    file_pattern,
    data_accessor,
    transform_output: tft.TFTransformOutput,
    batch_size: int,
    image_size: int,
    seed: int,
    shuffle_buffer: int,
    attributes: Sequence[str] = (),
) -> tf.data.Dataset:
    """Endless, shuffled batches of transformed images, float32 [batch, size, size, 3] in [-1, 1];
    with `attributes` named (a conditional model), (images, codes float32 [batch, attributes])
    pairs, the codes in the order of the names (trainer_module/conditions.py).

    Transform stores uint8 PNGs; they are decoded and scaled here, in parallel with the step.
    """
    dataset = data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(
            batch_size=batch_size,
            shuffle=True,
            shuffle_seed=seed,
            shuffle_buffer_size=shuffle_buffer,
            drop_final_batch=True,
            num_epochs=None,
        ),
        transform_output.transformed_metadata.schema,
    )
    shape = [batch_size, image_size, image_size, 3]

    def images(features):
        return tf.ensure_shape(pixels.to_model_range(pixels.decode_png(features[IMAGE_KEY])), shape)

    def images_and_codes(features):
        codes = [
            conditions.attribute_codes(features[ATTRIBUTE_PREFIX + name]) for name in attributes
        ]
        return images(features), tf.ensure_shape(
            tf.stack(codes, axis=1), [batch_size, len(attributes)]
        )

    return dataset.map(
        images_and_codes if attributes else images, num_parallel_calls=tf.data.AUTOTUNE
    ).prefetch(tf.data.AUTOTUNE)


def count_examples(file_patterns: list) -> int:
    """Records in the (GZIP) files; one pass, once per run, for the epoch length."""
    files = [f for pattern in file_patterns for f in tf.io.gfile.glob(pattern)]
    return int(
        tf.data.TFRecordDataset(files, compression_type="GZIP").reduce(0, lambda n, _: n + 1)
    )


def build_dcgan(settings: TrainerSettings) -> DCGAN:
    """Networks, label settings and Adam optimizers, as the settings say."""
    keras.utils.set_random_seed(settings.train_seed)  # the same initial weights for one seed
    attributes = len(settings.attributes) if settings.conditional else 0
    generator = networks.build_generator(
        z_dim=settings.z_dim,
        variant=settings.variant,
        image_size=settings.image_size,
        attributes=attributes,
        filters=settings.generator_filters,
    )
    discriminator = networks.build_discriminator(
        image_size=settings.image_size,
        variant=settings.variant,
        output=discriminator_output(settings.loss),
        attributes=attributes,
        conditioning=settings.conditioning,
        filters=settings.discriminator_filters,
        attribute_head=settings.attribute_head,
    )
    dcgan_settings = dict(
        z_dim=settings.z_dim,
        real_label=settings.real_label,
        real_label_noise=settings.real_label_noise,
        fake_label_noise=settings.fake_label_noise,
        label_flip_probability=settings.label_flip_probability,
        loss=settings.loss,
        train_seed=settings.train_seed,
        generator_ema_decay=settings.generator_ema_decay,
    )
    if settings.conditional:
        gan = ConditionalDCGAN(
            generator,
            discriminator,
            conditioning=settings.conditioning,
            d_attribute_weight=settings.d_attribute_weight,
            g_attribute_weight=settings.g_attribute_weight,
            mismatch_weight=settings.mismatch_weight,
            **dcgan_settings,
        )
    else:
        gan = DCGAN(generator, discriminator, **dcgan_settings)

    def adam(learning_rate: float):
        optimizer = FusedAdam(learning_rate, beta_1=settings.beta_1)
        if keras.mixed_precision.global_policy().name == "mixed_float16":  # float16 underflows
            optimizer = keras.mixed_precision.LossScaleOptimizer(optimizer)
        return optimizer

    gan.compile(
        g_optimizer=adam(settings.g_learning_rate), d_optimizer=adam(settings.d_learning_rate)
    )
    return gan


TRAINING_CODE = os.path.dirname(os.path.abspath(__file__))


def code_fingerprint(directory: str = TRAINING_CODE) -> str:
    """A hash of the training code (the .py files of `directory`, this package by default).

    Part of the resume key: checkpoints written by other training code are not resumed from, so
    a rerun after an upgrade starts afresh instead of loading old weights into changed networks
    (TFX's own cache keys do not cover a module's code either)."""
    digest = hashlib.sha256()
    for name in sorted(os.listdir(directory)):
        if name.endswith(".py"):
            with open(os.path.join(directory, name), "rb") as f:
                digest.update(name.encode() + b"\0" + f.read())
    return digest.hexdigest()[:16]


# Settings that change only what the loop writes down beside training (how often, how much),
# not the weights it trains (tests/test_trainer_quality.py: the same faces either way): a
# rerun that changes them resumes the same checkpoints instead of training afresh.
BOOKKEEPING_SETTINGS = (
    "checkpoint_every_steps",
    "log_every_steps",
    "eval_every_steps",
    "probe_samples",
    "sample_grid_size",
    "checkpoint_root",
)


def resume_dir(
    settings: TrainerSettings, transform_output: str, train_files, code: str = TRAINING_CODE
) -> str:
    """A checkpoint folder that a re-executed Trainer with the same inputs and config finds again.

    TFX gives every execution a fresh model_run_dir, so a crashed Trainer's checkpoints must
    live elsewhere to be resumed from: here, keyed by what determines the training (the settings
    but the bookkeeping ones, data and the training code).
    """
    trained_by = {
        name: value
        for name, value in settings.to_custom_config().items()
        if name not in BOOKKEEPING_SETTINGS
    }
    key = json.dumps(
        [trained_by, transform_output, sorted(train_files), code_fingerprint(code)],
        sort_keys=True,
        default=str,
    )
    return os.path.join(settings.checkpoint_root, hashlib.sha256(key.encode()).hexdigest()[:16])


def train_images(
    train_files: list, transform_output: tft.TFTransformOutput, max_images: int
) -> np.ndarray:
    """The train split's first `max_images` uint8 images, in file order, read as the evaluator
    reads a split (so the probe and the evaluator see the same pixels).

    fn_args.train_files holds '<split dir>/*' patterns (TFX's all_files_pattern); the
    evaluator's reader takes the split directory.
    """
    spec = transform_output.transformed_feature_spec()
    batches = [
        batch
        for pattern in train_files
        for batch in real_image_batches(
            os.path.dirname(pattern), spec, PROBE_READ_BATCH, max_images
        )
    ]
    return np.concatenate(batches)[:max_images] if batches else np.zeros((0,), np.uint8)


def probe_size(wanted: int, available: int) -> int:
    """How many images the probe compares: `probe_samples`, or every train image if fewer.

    A small split (a test run, a small dataset) still gets a curve: its values are comparable
    across the run's steps, which is what the curve is for, though not with runs probed at
    another size. Below MIN_PROBE_IMAGES the nearest-neighbour metrics are undefined.
    """
    if available < MIN_PROBE_IMAGES:
        raise ValueError(
            f"the quality probe needs at least {MIN_PROBE_IMAGES} train images, "
            f"the train split holds {available}; set eval_every_steps=0 to turn it "
            "off"
        )
    return min(wanted, available)


def attribute_table(
    settings: TrainerSettings, train_files: list, transform_output: tft.TFTransformOutput
) -> np.ndarray | None:
    """A conditional model's table of real attribute rows (trainer_module/conditions.py): the
    train split's first ATTRIBUTE_TABLE_ROWS, in file order; None for an unconditional one."""
    if not settings.conditional:
        return None
    spec = transform_output.transformed_feature_spec()
    table = np.concatenate(
        [
            real_attribute_codes(
                os.path.dirname(pattern), spec, settings.attributes, ATTRIBUTE_TABLE_ROWS
            )
            for pattern in train_files
        ]
    )[:ATTRIBUTE_TABLE_ROWS]
    print(
        f"Conditional on {len(settings.attributes)} attributes; {len(table)} real attribute "
        "rows for the sample grids, the probe and the export"
    )
    return table


def build_quality_scores(
    settings: TrainerSettings,
    train_files: list,
    transform_output: tft.TFTransformOutput,
    view: ExportView,
) -> QualityScores | None:
    """The in-training quality side job, or None when `eval_every_steps` is 0.

    The reference is the first `probe_samples` train images; the next as many, when the split
    holds them, are scored against it once here: real against real, the ceiling.
    """
    if not settings.eval_every_steps:
        return None
    started = time.perf_counter()
    wanted = settings.probe_samples
    images = train_images(train_files, transform_output, 2 * wanted)
    size = probe_size(wanted, len(images))
    probe = QualityProbe(
        [images[:size]], size, settings.z_dim, attribute_table=view.attribute_table
    )
    others = images[size : 2 * size]
    real_vs_real = probe.score_images(others) if len(others) == size else None
    fewer = f" (the train split holds only {len(images)})" if size < wanted else ""
    ceiling = (
        f"real vs real: the next {size}"
        if real_vs_real is not None
        else f"no real-vs-real ceiling (it needs {2 * size} train images)"
    )
    print(f"Quality probe: {size} fixed z against the first {size} train images{fewer}; {ceiling}")
    return QualityScores(probe, view, real_vs_real, setup_seconds=time.perf_counter() - started)


def loop_settings(
    settings: TrainerSettings, fn_args: tfx.components.FnArgs, log_dir: str
) -> LoopSettings:
    """The loop's schedule: the steps TFX asks for, an epoch of the train split (counted once
    unless set), checkpoints where a rerun finds them (resume_dir)."""
    steps_per_epoch = settings.steps_per_epoch or max(
        1, count_examples(fn_args.train_files) // settings.batch_size
    )
    return LoopSettings(
        steps=fn_args.train_steps,
        global_batch_size=settings.batch_size,
        steps_per_epoch=steps_per_epoch,
        checkpoint_dir=resume_dir(settings, fn_args.transform_graph_path, fn_args.train_files),
        checkpoint_every_steps=settings.checkpoint_every_steps,
        log_dir=log_dir,
        log_every_steps=settings.log_every_steps,
        eval_every_steps=settings.eval_every_steps,
    )


def export_trained(
    gan: DCGAN,
    settings: TrainerSettings,
    fn_args: tfx.components.FnArgs,
    strategy: tf.distribute.Strategy,
    attribute_table: np.ndarray | None,
) -> None:
    """G as it serves: the weight average (when kept), BatchNorm statistics re-estimated, the
    SavedModel with its settings; D beside the run's outputs. A worker other than the chief
    writes into folders of its own, deletes them and waits for the chief's export."""
    if gan.generator_average is not None:  # training is over: G becomes what it exports
        gan.generator_average.copy_to(gan.generator)
    refresh_batchnorm_statistics(
        gan.generator,
        settings.z_dim,
        batch_size=settings.batch_size,
        attribute_table=attribute_table,
    )
    export.export_generator(
        gan.generator,
        worker_path(fn_args.serving_model_dir, strategy),
        settings.z_dim,
        training_config={**settings.to_custom_config(), "train_steps": fn_args.train_steps},
        attribute_table=attribute_table,
    )
    gan.discriminator.save(
        os.path.join(worker_path(fn_args.model_run_dir, strategy), "discriminator")
    )
    if not strategy.extended.should_checkpoint:
        for path in (fn_args.model_run_dir, fn_args.serving_model_dir):
            remove_worker_path(path, strategy)
        wait_for_chief_export(fn_args.serving_model_dir)


@process_state_kept()  # the precision policy it sets must not reach the next component
def run_fn(fn_args: tfx.components.FnArgs) -> None:
    """Trains and exports G. Under MultiWorkerMirroredStrategy every worker runs all of it,
    since each save and export reads the distributed variables (a collective op all of them
    join); only the chief writes where TFX and the next components look, the others into
    folders of their own that they delete (checkpoints.worker_path)."""
    settings = trainer_settings(fn_args.custom_config)
    strategy = choose_strategy(settings.distribute_strategy)  # first: see choose_strategy
    use_precision(settings.precision, gpus=len(tf.config.list_logical_devices("GPU")))
    model_run_dir = worker_path(fn_args.model_run_dir, strategy)
    transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    dataset = image_dataset(
        fn_args.train_files,
        fn_args.data_accessor,
        transform_output,
        settings.batch_size,
        settings.image_size,
        settings.train_seed,
        settings.shuffle_buffer,
        settings.attributes if settings.conditional else (),
    )
    with strategy.scope():
        gan = build_dcgan(settings)
    if strategy.num_replicas_in_sync > 1:
        print(
            f"Training on {strategy.num_replicas_in_sync} replicas ({type(strategy).__name__}), "
            f"{settings.batch_size // strategy.num_replicas_in_sync} images each per step"
        )
    loop = loop_settings(settings, fn_args, os.path.join(model_run_dir, TENSORBOARD_DIR))
    table = attribute_table(settings, fn_args.train_files, transform_output)
    view = ExportView(gan.generator, settings.z_dim, gan.generator_average, attribute_table=table)
    samples = SampleGrids(
        view, os.path.join(model_run_dir, SAMPLES_DIR), grid_size=settings.sample_grid_size
    )
    quality = build_quality_scores(settings, fn_args.train_files, transform_output, view)
    jobs = standard_jobs(gan, loop, samples, quality, strategy=strategy)
    train(gan, dataset, loop, strategy, jobs)
    samples.save_gif()
    export_trained(gan, settings, fn_args, strategy, table)
