"""Beam executor that turns a folder in the CelebA layout into tf.Examples, accounting for every
input in `ingestion_report.json` (see `report`).

One tf.Example per image: the encoded bytes (`image`, always 3-channel, see `image_check`), the
file name (`filename`), the decoded `height`, `width` and `channels`, the stored `byte_size`,
and the 40 CelebA attributes as `attr_<Name>` (1 = present, 0 = absent; CelebA's file writes -1
for absent). A folder without `list_attr_celeba.txt` gives examples without attribute features:
absent, not invented.

Splits: CelebA's own from `list_eval_partition.txt` (0 train, 1 eval, 2 test); without it, a
deterministic hash of the file name with the component's hash buckets as ratios. Either way the
split is decided here, in one pass over the images, so the report counts examples per split.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from typing import Any

import apache_beam as beam
import tensorflow as tf
from absl import logging
from tfx import types
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.components.util import examples_utils
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils

from common import ATTRIBUTE_PREFIX
from components.celeba_example_gen import reasons, report
from components.celeba_example_gen.image_check import CheckedImage, check_image
from components.celeba_example_gen.inventory import Inventory, take_inventory
from components.celeba_example_gen.policy import IngestionPolicy
from data import celeba_files

SPLIT_NAMES = tuple(celeba_files.PARTITION_NAMES.values())
OUTCOMES_DIR = ".ingestion_outcomes"  # the readers' records, removed once the report is written
OUTCOMES = "outcomes"
MANIFEST_DIR = ".ingestion_manifest"  # the files to read, removed once they are read
MANIFEST_SHARD_SIZE = 10_000  # entries per manifest file
RECORDS_FILE_PREFIX = "data_tfrecord"  # as TFX's ExampleGen names its files
ORDER_SEED = 0  # of the order the images are read and written in


def attribute_feature_name(attribute: str) -> str:
    return ATTRIBUTE_PREFIX + attribute


def _int_feature(value: int) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))


def _bytes_feature(value: bytes) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def image_example(
    filename: str, image: CheckedImage, attributes: dict[str, int] | None = None
) -> tf.train.Example:
    features = {
        "image": _bytes_feature(image.encoded),
        "filename": _bytes_feature(filename.encode("utf-8")),
        "height": _int_feature(image.height),
        "width": _int_feature(image.width),
        "channels": _int_feature(image.channels),
        "byte_size": _int_feature(len(image.encoded)),
    }
    for name, value in (attributes or {}).items():
        features[attribute_feature_name(name)] = _int_feature(1 if value > 0 else 0)
    return tf.train.Example(features=tf.train.Features(feature=features))


def read_bytes(path: str, limit: int) -> bytes:
    """At most `limit` bytes; a larger file is rejected without reading the rest."""
    try:
        with fileio.open(path, "rb") as f:
            data = f.read(limit + 1)
    except Exception as err:  # permissions, a file gone since the listing, a remote error
        raise reasons.Rejected(reasons.UNREADABLE, f"{type(err).__name__}: {err}") from err
    if len(data) > limit:
        raise reasons.Rejected(reasons.FILE_TOO_LARGE, f"over the limit of {limit:,} bytes")
    return data


class _ReadImage(beam.DoFn):
    """(file name, split, attribute values) -> (split, serialized tf.Example), or an outcome
    record (rejection or conversion) on the OUTCOMES output."""

    def __init__(self, image_dir: str, attribute_names: list[str] | None, policy: IngestionPolicy):
        self._image_dir = image_dir
        self._attribute_names = attribute_names
        self._policy = policy

    def process(self, element):
        filename, split, values = element
        try:
            data = read_bytes(os.path.join(self._image_dir, filename), self._policy.max_image_bytes)
            image = check_image(data, self._policy)
        except reasons.Rejected as rejected:
            yield beam.pvalue.TaggedOutput(
                OUTCOMES,
                {
                    "file": filename,
                    "split": split,
                    "reason": rejected.reason,
                    "detail": rejected.detail,
                },
            )
            return
        if image.converted_from:
            yield beam.pvalue.TaggedOutput(
                OUTCOMES, {"file": filename, "split": split, "converted_from": image.converted_from}
            )
        if image.exif_orientation:
            yield beam.pvalue.TaggedOutput(
                OUTCOMES,
                {"file": filename, "split": split, "exif_orientation": image.exif_orientation},
            )
        attributes = dict(zip(self._attribute_names, values)) if values is not None else None
        yield split, image_example(filename, image, attributes).SerializeToString()


def write_manifest(to_read: list[tuple[str, str, list[int] | None]], manifest_dir: str) -> str:
    """Writes the files to read as JSON lines, MANIFEST_SHARD_SIZE per file; returns their glob.

    Why not `beam.Create(to_read)`: Create embeds its elements in the job's graph, which
    every runner ships to its workers and Dataflow limits to 10 MB, while CelebA's 202,599
    entries with their 40 attributes pickle to about 20 MB. A text source is read by the
    workers themselves, and any runner splits it across them.
    """
    fileio.makedirs(manifest_dir)
    for shard, start in enumerate(range(0, max(len(to_read), 1), MANIFEST_SHARD_SIZE)):
        with fileio.open(os.path.join(manifest_dir, f"part-{shard:05d}.jsonl"), "w") as f:
            f.write(
                "".join(
                    json.dumps(entry) + "\n"
                    for entry in to_read[start : start + MANIFEST_SHARD_SIZE]
                )
            )
    return os.path.join(manifest_dir, "part-*.jsonl")


def split_plan(exec_properties: dict[str, Any]) -> tuple[str, dict[str, int] | None]:
    """(the image pattern, hash buckets by split name), the buckets None for CelebA's partition.

    The component states it: three input splits sharing one pattern for the partition file, or
    one input split with hash buckets in output_config. Either way this executor assigns the
    split itself (see `inventory`), so that the report counts examples per split.
    """
    input_config = example_gen_pb2.Input()
    proto_utils.json_to_proto(exec_properties["input_config"], input_config)
    output_config = example_gen_pb2.Output()
    proto_utils.json_to_proto(exec_properties["output_config"], output_config)
    patterns = {split.pattern for split in input_config.splits}
    if output_config.split_config.splits and len(patterns) == 1:
        return patterns.pop(), {
            split.name: split.hash_buckets for split in output_config.split_config.splits
        }
    names = tuple(split.name for split in input_config.splits)
    if names != SPLIT_NAMES or len(patterns) != 1:
        raise ValueError(
            f"input_config must have the splits {SPLIT_NAMES} with one image "
            f"pattern, got {[(s.name, s.pattern) for s in input_config.splits]}"
        )
    return patterns.pop(), None


def examples_by_split(
    pipeline: beam.Pipeline,
    inventory: Inventory,
    policy: IngestionPolicy,
    manifest_dir: str,
    outcomes_dir: str,
) -> dict[str, beam.pvalue.PCollection]:
    """The inventory's images read, checked and turned into serialized examples, per split; each
    image's outcome (kept, or set aside with its reason) written under `outcomes_dir`."""
    split_names = inventory.split_names
    to_read = list(inventory.to_read)
    random.Random(ORDER_SEED).shuffle(to_read)  # no particular order, every run alike
    read = (
        pipeline
        | "ListImages" >> beam.io.ReadFromText(write_manifest(to_read, manifest_dir))
        | "ParseListEntries" >> beam.Map(json.loads)
        | "ReadImages"
        >> beam.ParDo(
            _ReadImage(inventory.image_dir, inventory.attribute_names, policy)
        ).with_outputs(OUTCOMES, main="examples")
    )
    _ = (
        read[OUTCOMES]
        | "OutcomesToJson" >> beam.Map(json.dumps)
        | "WriteOutcomes" >> beam.io.WriteToText(os.path.join(outcomes_dir, "part"))
    )
    parts = read.examples | "BySplit" >> beam.Partition(
        lambda keyed, _: split_names.index(keyed[0]), len(split_names)
    )
    return {
        name: parts[i] | f"DropSplitKey[{name}]" >> beam.Values()
        for i, name in enumerate(split_names)
    }


class Executor(BaseExampleGenExecutor):
    """ExampleGen for the CelebA layout with an ingestion report and a failure policy."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        raise NotImplementedError("Do reads and splits the images itself (examples_by_split)")

    def Do(self, input_dict, output_dict, exec_properties) -> None:
        examples = artifact_utils.get_single_instance(output_dict["examples"])
        outcomes_dir = os.path.join(examples.uri, OUTCOMES_DIR)
        manifest_dir = os.path.join(examples.uri, MANIFEST_DIR)
        policy = IngestionPolicy.from_exec_properties(exec_properties)
        inventory = take_inventory(exec_properties["input_base"], *split_plan(exec_properties))
        self._write_examples(
            examples,
            exec_properties,
            lambda pipeline: examples_by_split(
                pipeline, inventory, policy, manifest_dir, outcomes_dir
            ),
        )
        fileio.rmtree(manifest_dir)

        outcomes = _read_outcomes(outcomes_dir)
        fileio.rmtree(outcomes_dir)
        found = report.build_report(inventory, outcomes, policy, exec_properties["input_base"])
        violation = report.policy_violation(found)
        path = report.write_report(found, self._report_dir(examples.uri, violation))
        for name, value in report.custom_properties(found):
            examples.set_int_custom_property(name, value)
        examples.set_string_custom_property("ingestion_report", path)
        (logging.warning if found["rejected"] else logging.info)(report.summary(found, path))
        if violation:
            raise report.IngestionError(violation, path)

    def _write_examples(
        self,
        examples: types.Artifact,
        exec_properties: dict[str, Any],
        splits_of: Callable[[beam.Pipeline], dict[str, beam.pvalue.PCollection]],
    ) -> None:
        """The base executor's Do without its Reshuffle of every example before writing.

        A Reshuffle is a group-by-key: Beam's DirectRunner holds all its input in one process,
        which at CelebA's size is every image (5.9 GB at 202,599, measured). The order is
        shuffled on the file list instead (see examples_by_split), so the images stream
        from reading to writing. As the base executor: one GZIP TFRecord file set per split,
        and the payload format recorded on the artifact.
        """
        with self._make_beam_pipeline() as pipeline:
            splits = splits_of(pipeline)
            examples.split_names = artifact_utils.encode_split_names(list(splits))
            for split, records in splits.items():
                _ = records | f"WriteSplit[{split}]" >> beam.io.WriteToTFRecord(
                    os.path.join(
                        artifact_utils.get_split_uri([examples], split), RECORDS_FILE_PREFIX
                    ),
                    file_name_suffix=".gz",
                )
        if exec_properties.get(standard_component_specs.OUTPUT_DATA_FORMAT_KEY):
            examples_utils.set_payload_format(
                examples, exec_properties[standard_component_specs.OUTPUT_DATA_FORMAT_KEY]
            )

    def _report_dir(self, examples_uri: str, violation: str | None) -> str:
        """The Examples artifact; on a stopped run, TFX removes it, so the report goes to the
        execution's own folder (beside executor_output.pb), which stays."""
        output_uri = self._context.executor_output_uri if self._context else None
        return os.path.dirname(output_uri) if violation and output_uri else examples_uri


def _read_outcomes(outcomes_dir: str) -> list[dict[str, Any]]:
    records = []
    for path in sorted(fileio.glob(os.path.join(outcomes_dir, "part*"))):
        with fileio.open(path) as f:
            records.extend(json.loads(line) for line in f.read().splitlines() if line)
    return records
