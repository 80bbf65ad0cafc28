"""Beam executor that turns a folder in the CelebA layout into tf.Examples.

One tf.Example per image: the encoded bytes (`image`), the file name (`filename`), the decoded
`height`, `width` and `channels`, and the 40 CelebA attributes as `attr_<Name>` (1 = present,
0 = absent; CelebA's file writes -1 for absent). A folder without `list_attr_celeba.txt` gives
examples without attribute features: absent, not invented.

Splits: with `list_eval_partition.txt`, CelebA's own partition (0 train, 1 eval, 2 test) is
applied here in one pass over the images. Without it, the pipeline asks TFX for a hash split on
`filename` (see `pipeline.pipeline`), and this executor only reads the images.
"""
from __future__ import annotations

import io
import os
from typing import Any, Dict, Iterable, Optional

import apache_beam as beam
import tensorflow as tf
from PIL import Image
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2
from tfx.utils import proto_utils

from data import celeba_files

CHANNELS_BY_MODE = {"1": 1, "L": 1, "P": 1, "LA": 2, "RGB": 3, "YCbCr": 3, "RGBA": 4, "CMYK": 4}


class ImageReadError(ValueError):
    """An input file could not be read as an image; the message names the file."""


def attribute_feature_name(attribute: str) -> str:
    return f"attr_{attribute}"


def _int_feature(value: int) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))


def _bytes_feature(value: bytes) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def image_to_example(filename: str, encoded: bytes,
                     attributes: Optional[Dict[str, int]] = None) -> tf.train.Example:
    """Builds the tf.Example of one image; decodes it fully so a broken file fails here, by name."""
    try:
        with Image.open(io.BytesIO(encoded)) as image:
            image.load()
            width, height, mode = image.width, image.height, image.mode
    except Exception as err:  # Pillow raises many types for bad input
        raise ImageReadError(f"{filename}: not a readable image ({err})") from err
    features = {
        "image": _bytes_feature(encoded),
        "filename": _bytes_feature(filename.encode("utf-8")),
        "height": _int_feature(height),
        "width": _int_feature(width),
        "channels": _int_feature(CHANNELS_BY_MODE.get(mode, 0)),
    }
    for name, value in (attributes or {}).items():
        features[attribute_feature_name(name)] = _int_feature(1 if value > 0 else 0)
    return tf.train.Example(features=tf.train.Features(feature=features))


class _ReadImageExample(beam.DoFn):
    """Reads one image file and emits its serialized tf.Example."""

    def __init__(self, image_dir: str, attribute_names: Optional[list]):
        self._image_dir = image_dir
        self._attribute_names = attribute_names

    def process(self, element):
        filename, attribute_values = element
        with fileio.open(os.path.join(self._image_dir, filename), "rb") as f:
            encoded = f.read()
        attributes = (dict(zip(self._attribute_names, attribute_values))
                      if attribute_values is not None else None)
        yield image_to_example(filename, encoded, attributes).SerializeToString()


def _list_images(input_base: str, pattern: str) -> list:
    """File names (relative to the image folder) that the split pattern matches, sorted."""
    return sorted(os.path.basename(path) for path in fileio.glob(os.path.join(input_base, pattern))
                  if not fileio.isdir(path))


def _read_attributes(input_base: str):
    """(names, rows) from the attribute file, or (None, {}) when the folder has none."""
    path = os.path.join(input_base, celeba_files.ATTRIBUTE_FILE)
    if not fileio.exists(path):
        return None, {}
    return celeba_files.read_attribute_file(path)


def _check_lists_match(filenames: Iterable[str], listed: Iterable[str], list_name: str) -> None:
    """Fails loudly when the images and a list file disagree, naming a few of the files."""
    present, expected = set(filenames), set(listed)
    missing, unlisted = sorted(expected - present), sorted(present - expected)
    if missing or unlisted:
        raise ValueError(
            f"{list_name} does not match the images: {len(missing)} listed but missing "
            f"(e.g. {missing[:3]}), {len(unlisted)} present but not listed (e.g. {unlisted[:3]})")


def _keyed_with_attributes(filenames, attribute_names, attribute_rows):
    if attribute_names is not None:
        _check_lists_match(filenames, attribute_rows, celeba_files.ATTRIBUTE_FILE)
    return [(name, attribute_rows.get(name)) for name in filenames]


@beam.ptransform_fn
@beam.typehints.with_input_types(beam.Pipeline)
@beam.typehints.with_output_types(bytes)
def _ImagesToExamples(pipeline: beam.Pipeline, exec_properties: Dict[str, Any],
                      split_pattern: str) -> beam.pvalue.PCollection:
    """All images that `split_pattern` matches under input_base, as serialized tf.Examples."""
    input_base = exec_properties["input_base"]
    filenames = _list_images(input_base, split_pattern)
    if not filenames:
        raise ValueError(f"No images match {os.path.join(input_base, split_pattern)}")
    attribute_names, attribute_rows = _read_attributes(input_base)
    image_dir = os.path.dirname(os.path.join(input_base, split_pattern))
    return (pipeline
            | "ListImages" >> beam.Create(
                _keyed_with_attributes(filenames, attribute_names, attribute_rows))
            | "ReadImages" >> beam.ParDo(_ReadImageExample(image_dir, attribute_names)))


class Executor(BaseExampleGenExecutor):
    """ExampleGen for the CelebA layout; splits from `list_eval_partition.txt` when present."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        return _ImagesToExamples

    def GenerateExamplesByBeam(self, pipeline: beam.Pipeline,
                               exec_properties: Dict[str, Any]) -> Dict[str, beam.pvalue.PCollection]:
        input_config = example_gen_pb2.Input()
        proto_utils.json_to_proto(exec_properties["input_config"], input_config)
        partition_path = os.path.join(exec_properties["input_base"], celeba_files.PARTITION_FILE)
        if len(input_config.splits) == 1 or not fileio.exists(partition_path):
            return super().GenerateExamplesByBeam(pipeline, exec_properties)
        return self._split_by_partition_file(pipeline, exec_properties, input_config,
                                             partition_path)

    @staticmethod
    def _split_by_partition_file(pipeline, exec_properties, input_config, partition_path):
        """Reads every image once and routes it to the split its partition id names."""
        split_names = [split.name for split in input_config.splits]
        known = set(celeba_files.PARTITION_NAMES.values())
        if set(split_names) != known:
            raise ValueError(f"input_config splits {split_names} must be exactly {sorted(known)} "
                             f"when {celeba_files.PARTITION_FILE} is used")
        patterns = {split.pattern for split in input_config.splits}
        if len(patterns) != 1:
            raise ValueError(f"all splits must share one image pattern, got {sorted(patterns)}")
        pattern = patterns.pop()

        input_base = exec_properties["input_base"]
        filenames = _list_images(input_base, pattern)
        partitions = celeba_files.read_partition_file(partition_path)
        _check_lists_match(filenames, partitions, celeba_files.PARTITION_FILE)
        attribute_names, attribute_rows = _read_attributes(input_base)
        index_of_split = {name: i for i, name in enumerate(split_names)}
        split_index = {name: index_of_split[celeba_files.PARTITION_NAMES[partitions[name]]]
                       for name in filenames}

        image_dir = os.path.dirname(os.path.join(input_base, pattern))
        parts = (pipeline
                 | "ListImages" >> beam.Create(
                     [(split_index[name], element) for name, element in
                      zip(filenames, _keyed_with_attributes(filenames, attribute_names,
                                                            attribute_rows))])
                 | "BySplit" >> beam.Partition(lambda keyed, n: keyed[0], len(split_names)))
        return {name: (parts[i]
                       | f"Drop split key[{name}]" >> beam.Map(lambda keyed: keyed[1])
                       | f"ReadImages[{name}]" >> beam.ParDo(
                           _ReadImageExample(image_dir, attribute_names)))
                for name, i in index_of_split.items()}
