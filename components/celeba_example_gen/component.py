"""CelebAExampleGen: TFX's FileBasedExampleGen with our Beam executor for the CelebA layout."""
from __future__ import annotations

import os
from typing import Sequence

from tfx.components.example_gen.component import FileBasedExampleGen
from tfx.dsl.components.base.executor_spec import BeamExecutorSpec
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2

from components.celeba_example_gen.executor import Executor
from data import celeba_files

SPLIT_NAMES = ("train", "eval", "test")


def image_pattern(data_root: str) -> str:
    """Images live in img_align_celeba/ in the CelebA layout, else directly in the folder."""
    if fileio.isdir(os.path.join(data_root, celeba_files.IMAGE_DIR)):
        return f"{celeba_files.IMAGE_DIR}/*"
    return "*"


class CelebAExampleGen(FileBasedExampleGen):
    """Reads a CelebA-layout folder into train/eval/test tf.Examples.

    With `list_eval_partition.txt` the splits are CelebA's own; without it, TFX's hash split on
    the file name with `hash_buckets` (train, eval, test) gives a deterministic split.
    """

    EXECUTOR_SPEC = BeamExecutorSpec(Executor)

    def __init__(self, data_root: str, hash_buckets: Sequence[int] = (8, 1, 1)):
        pattern = image_pattern(data_root)
        output_config = None
        if fileio.exists(os.path.join(data_root, celeba_files.PARTITION_FILE)):
            input_config = example_gen_pb2.Input(splits=[
                example_gen_pb2.Input.Split(name=name, pattern=pattern) for name in SPLIT_NAMES])
        else:
            input_config = example_gen_pb2.Input(splits=[
                example_gen_pb2.Input.Split(name="images", pattern=pattern)])
            output_config = example_gen_pb2.Output(split_config=example_gen_pb2.SplitConfig(
                splits=[example_gen_pb2.SplitConfig.Split(name=name, hash_buckets=buckets)
                        for name, buckets in zip(SPLIT_NAMES, hash_buckets)],
                partition_feature_name="filename"))
        super().__init__(input_base=data_root, input_config=input_config,
                         output_config=output_config)
