"""The tiny configuration the end-to-end runs share (64 built-in images, a 2-step Trainer), and
how their tests find what a component wrote."""

import os

import ml_metadata as mlmd
import tensorflow as tf
from tfx.orchestration import metadata

from pipeline_config import PipelineConfig
from trainer_module.seed_recipe import SEED_GENERATOR_FILTERS

# Narrow networks (about 30 times fewer parameters than the seed's), for a run that tests the
# pipeline rather than the networks: the conditional 128-px run generates thousands of images
# in its evaluator. The tiny runs themselves keep the seed's G (tiny_config): the fault matrix's
# full-disk fills are sized by its files (test_faults.py), and the report tests need the
# evaluator to find attribute directions in a 2-step G, which it does in the seed's G and not
# in the default's narrower one (seed 0).
NARROW = {"generator_filters": 128, "discriminator_filters": 16}


def tiny_config(root, **overrides) -> PipelineConfig:
    """Data under root/data, outputs under root/out, batches of 16, 64 evaluated samples (200 for
    the attribute directions, which need 10 on each side of an attribute), and
    blessed whatever the FD ratio, precision and recall (2 steps cannot halve the ratio nor reach
    a fraction of real-vs-real precision), so that Pusher runs."""
    return PipelineConfig(
        data_root=str(root / "data"),
        output_root=str(root / "out"),
        synthetic_num_images=64,
        train_steps=2,
        batch_size=16,
        eval_num_samples=64,
        eval_batch_size=32,
        sample_grid_size=4,
        attribute_samples=200,
        generator_filters=SEED_GENERATOR_FILTERS,
        max_fd_ratio_to_untrained=100.0,
        eval_min_precision_fraction=0.0,
        eval_min_recall_fraction=0.0,
    ).with_overrides(**overrides)


def metadata_store(config: PipelineConfig) -> mlmd.MetadataStore:
    return mlmd.MetadataStore(metadata.sqlite_metadata_connection_config(config.metadata_path))


def produced_by(store, type_name, component):
    """The artifact of a type that one component wrote (Transform also writes Schemas)."""
    (artifact,) = [a for a in store.get_artifacts_by_type(type_name) if f"/{component}/" in a.uri]
    return artifact


def split_records(uri, split) -> list:
    """The serialized records of one split of an Examples artifact, in file order."""
    files = tf.io.gfile.glob(os.path.join(uri, f"Split-{split}", "*"))
    return list(tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator())
