"""CelebAExampleGen: TFX's FileBasedExampleGen with our Beam executor for the CelebA layout."""

from __future__ import annotations

import os
from collections.abc import Sequence

from tfx.components.example_gen.component import FileBasedExampleGen
from tfx.dsl.components.base.executor_spec import BeamExecutorSpec
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2

from components.celeba_example_gen.driver import Driver
from components.celeba_example_gen.executor import SPLIT_NAMES, Executor
from components.celeba_example_gen.policy import IngestionPolicy
from data import celeba_files


def image_pattern(data_root: str, use_image_dir: bool | None = None) -> str:
    """Images live in img_align_celeba/ in the CelebA layout, else directly in the folder."""
    if use_image_dir is None:
        use_image_dir = layout_has(data_root, celeba_files.IMAGE_DIR, fileio.isdir)
    return f"{celeba_files.IMAGE_DIR}/*" if use_image_dir else "*"


def layout_has(data_root: str, name: str, probe) -> bool:
    """Looks for `name` in a local folder; a remote URI (gs://, s3://, ...) is taken to hold the
    published CelebA layout, so compiling a pipeline for a cluster never touches the network."""
    if "://" in data_root:
        return True
    return probe(os.path.join(data_root, name))


class CelebAExampleGen(FileBasedExampleGen):
    """Reads a CelebA-layout folder into train/eval/test tf.Examples and an ingestion report.

    With `list_eval_partition.txt` the splits are CelebA's own; without it, a deterministic hash
    of the file name with `hash_buckets` (train, eval, test) as the ratios. `use_partition_file`
    and `use_image_dir` state the layout instead of looking for it (None: look, see
    `layout_has`). `policy` says which files are accepted and when the run stops.
    """

    EXECUTOR_SPEC = BeamExecutorSpec(Executor)
    DRIVER_CLASS = Driver

    def __init__(
        self,
        data_root: str,
        hash_buckets: Sequence[int],
        policy: IngestionPolicy,
        use_partition_file: bool | None = None,
        use_image_dir: bool | None = None,
    ):
        pattern = image_pattern(data_root, use_image_dir)
        if use_partition_file is None:
            use_partition_file = layout_has(data_root, celeba_files.PARTITION_FILE, fileio.exists)
        output_config = None
        if use_partition_file:
            input_config = example_gen_pb2.Input(
                splits=[
                    example_gen_pb2.Input.Split(name=name, pattern=pattern) for name in SPLIT_NAMES
                ]
            )
        else:
            input_config = example_gen_pb2.Input(
                splits=[example_gen_pb2.Input.Split(name="images", pattern=pattern)]
            )
            output_config = example_gen_pb2.Output(
                split_config=example_gen_pb2.SplitConfig(
                    splits=[
                        example_gen_pb2.SplitConfig.Split(name=name, hash_buckets=buckets)
                        for name, buckets in zip(SPLIT_NAMES, hash_buckets)
                    ],
                    partition_feature_name="filename",
                )
            )
        super().__init__(
            input_base=data_root,
            input_config=input_config,
            output_config=output_config,
            custom_config=policy.to_custom_config(),
        )
