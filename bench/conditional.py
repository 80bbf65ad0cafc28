"""Conditional against unconditional generation, side by side: the default local pipeline run once
per model, with the same data, steps, seed and evaluator.

    .venv/bin/python bench/conditional.py [--output-root outputs/conditional]
        [--models unconditional projection ...] [--train-steps 1000] [--train-seed 0]
        [--train-only]

Every run shares one pipeline root, so CelebAExampleGen, StatisticsGen and Transform run once
and come from TFX's cache afterwards; each model's Trainer, GanEvaluator and Pusher run anew.
For each model it prints one line of the evaluator's figures: the Fréchet distance on the
random embedding and its ratio to the unconditional model's (the target: <= 1.2), precision and
recall next to real vs real, the ruler's mean accuracy on real test images, and for conditional
models the mean fidelity (the ruler agreeing with the request, asked present and absent as
`sample` asks: the other attributes from real faces that agree) and its ratio
to the ruler's accuracy (the target: >= 0.9). Then the per-attribute fidelity of each
conditional model. About 15 minutes per model on 2 cores (the first also prepares the data):
run it in the background, alone on the machine.

`--train-only` runs the pipeline up to the Trainer (no evaluator, no Pusher): for a short
run judged by `bench/discriminator_attributes.py` (does D check the attributes?) and the
quality probe in the Trainer's log, before a full evaluation.

`--evaluate-latest` re-runs only the evaluator, without the cache, on the model the last run
trained (name it as the one --models entry; `--reference` gives the unconditional model's
metrics.json for the ratio): for a change in the evaluator's code, which TFX's cache keys do
not cover.
"""

import argparse
import glob
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]
import bootstrap  # noqa: E402

bootstrap.start()

import common as ids  # noqa: E402

# Each model's settings over the default config (pipeline_config.py). The D-loss candidates:
# projection alone; D's attribute head alone (AC-GAN); the head on the projection D with
# matching-aware negatives (real faces with one attribute flipped count as fakes).
MODELS = {
    "unconditional": {"conditional": False},
    "projection": {
        "conditional": True,
        "conditioning": "projection",
        "d_attribute_weight": 0.0,
        "g_attribute_weight": 0.0,
    },
    "auxiliary": {
        "conditional": True,
        "conditioning": "auxiliary",
        "d_attribute_weight": 1.0,
        "g_attribute_weight": 10.0,
    },
    "projection_head_mismatch": {
        "conditional": True,
        "conditioning": "projection",
        "d_attribute_weight": 1.0,
        "g_attribute_weight": 10.0,
        "mismatch_weight": 0.5,
    },
}
FD = "fid/random_embedding"
PREFIX = "attributes/"


def overrides(model: str) -> dict:
    return MODELS[model]


def newest_metrics(config) -> dict:
    paths = glob.glob(
        os.path.join(config.pipeline_root, ids.EVALUATOR, "evaluation", "*", "metrics.json")
    )
    newest = max(paths, key=lambda path: int(Path(path).parent.name))
    with open(newest) as f:
        return {"path": newest, **json.load(f)}


def line(model: str, metrics: dict, reference_fd: float, seconds: float) -> str:
    parts = [
        f"conditional model={model}",
        f"seconds={seconds:.0f}",
        f"fd={metrics[FD]:.3f}",
        f"fd_to_unconditional={metrics[FD] / reference_fd:.3f}",
        f"precision={metrics['precision/random_embedding']:.3f} "
        f"(real {metrics['precision/random_embedding_real_vs_real']:.3f})",
        f"recall={metrics['recall/random_embedding']:.3f} "
        f"(real {metrics['recall/random_embedding_real_vs_real']:.3f})",
        f"ruler_accuracy={metrics[PREFIX + 'classifier_accuracy_mean']:.3f}",
    ]
    if PREFIX + "fidelity_mean" in metrics:
        parts += [
            f"fidelity={metrics[PREFIX + 'fidelity_mean']:.3f}",
            f"fidelity_to_accuracy={metrics[PREFIX + 'fidelity_to_accuracy']:.3f}",
        ]
    return " ".join(parts)


def evaluate_latest(config) -> None:
    """The evaluator alone, anew: a partial run that takes its inputs from the latest run."""
    from tfx import v1 as tfx
    from tfx.orchestration.pipeline import RunOptions

    from pipeline.pipeline import create_pipeline

    connection = tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path)
    tfx.orchestration.LocalDagRunner().run(
        create_pipeline(config.with_overrides(enable_cache=False), connection),
        run_options=RunOptions(from_nodes=[ids.EVALUATOR], to_nodes=[ids.EVALUATOR]),
    )


def train_only(config) -> None:
    """The pipeline up to the Trainer."""
    from tfx import v1 as tfx
    from tfx.orchestration.pipeline import RunOptions

    from pipeline.pipeline import create_pipeline

    os.makedirs(os.path.dirname(config.metadata_path), exist_ok=True)
    connection = tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path)
    tfx.orchestration.LocalDagRunner().run(
        create_pipeline(config, connection), run_options=RunOptions(to_nodes=[ids.TRAINER])
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-root", default=str(HERE.parent / "outputs" / "conditional"))
    parser.add_argument(
        "--models", nargs="+", default=["unconditional", "auxiliary"], choices=MODELS
    )
    parser.add_argument("--train-steps", type=int, default=None)
    parser.add_argument(
        "--train-seed",
        type=int,
        default=None,
        help="the Trainer's seed for every model (default: the config's)",
    )
    parser.add_argument("--evaluate-latest", action="store_true")
    parser.add_argument("--train-only", action="store_true")
    parser.add_argument("--reference", help="the unconditional model's metrics.json")
    args = parser.parse_args()
    if args.evaluate_latest and len(args.models) != 1:
        parser.error("--evaluate-latest re-evaluates one model: the last one trained")

    from pipeline.run_local import prepare_data, run
    from pipeline_config import PipelineConfig

    base = PipelineConfig().with_overrides(output_root=args.output_root)
    if args.train_steps:
        base = base.with_overrides(train_steps=args.train_steps)
    if args.train_seed is not None:
        base = base.with_overrides(train_seed=args.train_seed)
    prepare_data(base)
    results = {}
    for model in args.models:
        config = base.with_overrides(**overrides(model))
        started = time.perf_counter()
        if args.train_only:
            train_only(config)
            print(
                f"conditional model={model} trained in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
            continue
        (evaluate_latest if args.evaluate_latest else run)(config)
        results[model] = (newest_metrics(config), time.perf_counter() - started)
        print(f"conditional model={model} metrics={results[model][0]['path']}", flush=True)

    if not results:
        return
    if args.reference:
        with open(args.reference) as f:
            reference = json.load(f)[FD]
    else:
        reference = results.get("unconditional", next(iter(results.values())))[0][FD]
    for model, (metrics, seconds) in results.items():
        print(line(model, metrics, reference, seconds), flush=True)
    names = base.attributes
    for model, (metrics, _) in results.items():
        if PREFIX + "fidelity_mean" not in metrics:
            continue
        for name in names:
            print(
                f"conditional model={model} attribute={name} "
                f"on={metrics[f'{PREFIX}fidelity_on/{name}']:.3f} "
                f"off={metrics[f'{PREFIX}fidelity_off/{name}']:.3f} "
                f"fidelity={metrics[f'{PREFIX}fidelity/{name}']:.3f} "
                f"ruler={metrics[f'{PREFIX}classifier_accuracy/{name}']:.3f} "
                f"real_rate={metrics[f'{PREFIX}real_rate/{name}']:.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
