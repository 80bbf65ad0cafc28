"""The built-in faces the benchmarks run on, and the pipeline's first steps over them.

The components run outside an orchestrator through the tests' harness (tests/standalone.py),
re-exported here for the benchmarks: run_example_gen, run_transform, split_names,
trainer_fn_args.
"""

import ast
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from standalone import (  # noqa: E402
    run_example_gen,
    run_transform,
    split_names,
    trainer_fn_args,
)

from data.synthetic_celeba import ensure_dataset  # noqa: E402
from pipeline_config import PROJECT_ROOT, PipelineConfig  # noqa: E402
from trainer_module.settings import TrainerSettings  # noqa: E402

__all__ = ["run_example_gen", "run_transform", "split_names", "trainer_fn_args"]


def parse_overrides(pairs) -> dict:
    """`--set name=value ...` as PipelineConfig overrides: Python literals, else strings."""
    overrides = {}
    for pair in pairs:
        key, _, text = pair.partition("=")
        try:
            overrides[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            overrides[key] = text
    return overrides


def dataset_root(config: PipelineConfig, num_images: int) -> str:
    """The default set when the size is the default's (kept as it is), else one in /tmp."""
    data_root = config.data_root
    if num_images != config.synthetic_num_images:
        data_root = os.path.join(tempfile.gettempdir(), f"synthetic_celeba_{num_images}")
    ensure_dataset(data_root, num_images, config.synthetic_seed)
    return data_root


def examples_and_schema(data_root: str, work_dir: str, name: str = "examples"):
    """CelebAExampleGen's examples of `data_root` and a Schema folder holding the curated schema."""
    examples = run_example_gen(data_root, os.path.join(work_dir, name))
    schema_dir = os.path.join(work_dir, "schema")
    if not os.path.isdir(schema_dir):
        os.makedirs(schema_dir)
        shutil.copy(PROJECT_ROOT / "schema" / "schema.pbtxt", schema_dir)
    return examples, schema_dir


def training_batches(config: PipelineConfig, transformed, graph):
    """run_fn's own input pipeline (`image_dataset`) over Transform's output, as FnArgs give it."""
    import tensorflow_transform as tft

    from trainer_module.run import image_dataset

    fn_args = trainer_fn_args(transformed, graph, TrainerSettings.of(config))
    return image_dataset(
        fn_args.train_files,
        fn_args.data_accessor,
        tft.TFTransformOutput(fn_args.transform_graph_path),
        config.batch_size,
        config.image_size,
        config.train_seed,
        config.shuffle_buffer,
    )
