"""Transform's output read as numpy arrays, outside a training graph: the real images and
attribute rows of one split, in file order.

The Trainer's quality probe and attribute table, the evaluator and the benchmarks all read real
faces through these functions, so each sees the same pixels (Transform's uint8 PNGs, decoded as
the training input decodes them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import tensorflow as tf

from common import ATTRIBUTE_PREFIX, IMAGE_KEY
from trainer_module import conditions, pixels


def split_files(split_uri: str) -> list[str]:
    files = sorted(tf.io.gfile.glob(os.path.join(split_uri, "*")))
    if not files:
        raise ValueError(f"no transformed examples in {split_uri}")
    return files


def real_image_batches(
    split_uri: str, feature_spec: dict, batch_size: int, max_images: int
) -> Iterator[np.ndarray]:
    """Transformed images of one split (GZIP TFRecords) as uint8 batches, in file order."""
    dataset = (
        tf.data.TFRecordDataset(split_files(split_uri), compression_type="GZIP")
        .take(max_images)
        .batch(batch_size)
        .map(
            lambda records: pixels.decode_png(tf.io.parse_example(records, feature_spec)[IMAGE_KEY])
        )
    )
    for images in dataset:
        yield images.numpy()


def attribute_keys(feature_spec: dict, names) -> list:
    """The transformed examples' feature keys of the attributes `names`, in that order; a
    clear error when Transform passed on other attributes than the ones asked for."""
    keys = [ATTRIBUTE_PREFIX + name for name in names]
    missing = [key for key in keys if key not in feature_spec]
    if missing:
        raise ValueError(
            f"the transformed examples have no {', '.join(missing)}: Transform "
            "passed on other attributes than the ones asked for"
        )
    return keys


def real_attribute_codes(split_uri: str, feature_spec: dict, names, max_rows: int) -> np.ndarray:
    """float32 [rows, attributes]: the first `max_rows` examples' attributes of one split, in
    the order of `names`, as a conditional generator's codes (+1 present, -1 absent, 0 unknown)."""
    keys = attribute_keys(feature_spec, names)
    spec = {key: feature_spec[key] for key in keys}
    dataset = (
        tf.data.TFRecordDataset(split_files(split_uri), compression_type="GZIP")
        .take(max_rows)
        .batch(1024)
        .map(
            lambda records: tf.stack(
                [
                    conditions.attribute_codes(parsed)
                    for parsed in (tf.io.parse_example(records, spec)[key] for key in keys)
                ],
                axis=1,
            )
        )
    )
    rows = [batch.numpy() for batch in dataset]
    return np.concatenate(rows) if rows else np.zeros((0, len(keys)), np.float32)
