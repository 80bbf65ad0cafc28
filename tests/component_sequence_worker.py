"""Components one after the other in one process, as the local runner runs them, or the evaluator
alone in a process of its own; prints the evaluator's metrics as one JSON line (METRICS ...).

    python tests/component_sequence_worker.py ROOT train-then-evaluate  # writes ROOT's inputs
    python tests/component_sequence_worker.py ROOT evaluate             # reads them again

The Trainer is run_fn on 48 blob images, 2 steps of the narrow networks in mixed_bfloat16 (the
policy the precision setting makes global). Used by tests/test_process_state.py.
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
import tf_environment  # noqa: E402, F401  (set before TensorFlow loads)

import tf_keras  # noqa: E402
from standalone import trainer_fn_args  # noqa: E402
from test_gan_evaluator_executor import artifact, evaluate, write_transformed_examples  # noqa: E402
from test_trainer_quality import with_eval_split  # noqa: E402
from tfx.types import standard_artifacts  # noqa: E402
from tfx.utils import path_utils  # noqa: E402
from tiny_pipeline import NARROW  # noqa: E402

from pipeline_config import PipelineConfig  # noqa: E402
from trainer_module import run  # noqa: E402
from trainer_module.settings import TrainerSettings  # noqa: E402


def train(root: Path) -> None:
    examples, graph = write_transformed_examples(root, 48)
    with_eval_split(examples)
    settings = TrainerSettings.of(
        PipelineConfig(
            output_root=str(root / "out"),
            batch_size=8,
            eval_every_steps=0,
            sample_grid_size=2,
            precision="mixed_bfloat16",
            **NARROW,
        )
    )
    fn_args = trainer_fn_args(examples, graph, settings)
    fn_args.train_steps = 2
    fn_args.model_run_dir = str(root / "model_run")
    fn_args.serving_model_dir = path_utils.serving_model_path(str(root / "model"))
    run.run_fn(fn_args)


def evaluator_inputs(root: Path) -> dict:
    examples = artifact(standard_artifacts.Examples, root / "examples")
    examples.split_names = '["train", "eval"]'
    return {
        "root": root,
        "examples": examples,
        "graph": artifact(standard_artifacts.TransformGraph, root / "graph"),
        "model": artifact(standard_artifacts.Model, root / "model", 1),
    }


def main(root: Path, mode: str) -> None:
    if mode == "train-then-evaluate":
        train(root)
        print("POLICY after the Trainer:", tf_keras.mixed_precision.global_policy().name)
    metrics, _, _ = evaluate(evaluator_inputs(root), mode, eval_cache_dir=str(root / mode))
    print("POLICY after the evaluator:", tf_keras.mixed_precision.global_policy().name)
    print("METRICS " + json.dumps(metrics, sort_keys=True))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
