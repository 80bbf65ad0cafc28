"""Quality against training steps and wall time: the Trainer's own code on the built-in faces.

    .venv/bin/python bench/quality_curve.py run --name NAME [--steps 2000] [--every 250]
                                                [--samples 1000] [--set field=value ...]
    .venv/bin/python bench/quality_curve.py report NAME [NAME ...] [--out docs/quality]

`run` trains with run_fn's pieces (build_dcgan, image_dataset over Transform's output, the
training loop with its checkpoints) under `PipelineConfig().with_overrides(--set ...)`, and every
`--every` steps scores what an export would draw (trainer_module/quality_probe.py: the
evaluator's Fréchet distance, KID, precision/recall, density/coverage on the random embedding)
on `--samples` fixed latent points against as many real training images. The first line of each
curve is real against real: held-out images (eval + test splits) against the training images,
`--samples` on both sides, the ceiling every figure is read against. Each point also writes a
grid of 36 faces from one fixed z. Output under outputs/bench/quality_curve/NAME/: curve.jsonl
(one JSON object per point), grids/step_NNNNN.png; a killed run resumes from its checkpoint.
Training seconds exclude the probe's own time (not the grid's, about a second).

`report` prints a Markdown table of several runs and writes one plot (metrics against steps and
against training seconds) to --out.png.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bootstrap  # noqa: E402

bootstrap.start()

import numpy as np  # noqa: E402
import tensorflow_transform as tft  # noqa: E402
from bench_data import (  # noqa: E402
    dataset_root,
    examples_and_schema,
    parse_overrides,
    run_transform,  # noqa: E402
    training_batches,
)
from tfx.types import artifact_utils, standard_artifacts  # noqa: E402

from pipeline_config import PROJECT_ROOT, PipelineConfig  # noqa: E402
from trainer_module import images  # noqa: E402
from trainer_module.batchnorm import ExportView  # noqa: E402
from trainer_module.precision import set_precision  # noqa: E402
from trainer_module.quality_probe import QualityProbe  # noqa: E402
from trainer_module.run import build_dcgan  # noqa: E402
from trainer_module.settings import TrainerSettings  # noqa: E402
from trainer_module.side_jobs import LoopSettings, QualityScores  # noqa: E402
from trainer_module.training_loop import standard_jobs, train  # noqa: E402
from trainer_module.transformed_examples import real_image_batches  # noqa: E402

ROOT = PROJECT_ROOT / "outputs" / "bench" / "quality_curve"
GRID_FACES = 36


def transformed_data(config: PipelineConfig):
    """ExampleGen and Transform over the built-in set, once; later runs reuse their output."""
    work = ROOT / f"data_{config.synthetic_num_images}_{config.crop_mode}_{config.image_size}"
    if not (work / "DONE").exists():
        examples, schema_dir = examples_and_schema(
            dataset_root(config, config.synthetic_num_images), str(work)
        )
        run_transform(config, examples, schema_dir, str(work / "transform"))
        (work / "DONE").write_text("ok")
    transformed = standard_artifacts.Examples()
    transformed.uri = str(work / "transform" / "transformed_examples")
    transformed.split_names = artifact_utils.encode_split_names(["train", "eval", "test"])
    graph = standard_artifacts.TransformGraph()
    graph.uri = str(work / "transform" / "transform_graph")
    return transformed, graph


def real_batches(transformed, graph, splits, batch_size=250):
    spec = tft.TFTransformOutput(graph.uri).transformed_feature_spec()
    for split in splits:
        yield from real_image_batches(
            os.path.join(transformed.uri, f"Split-{split}"), spec, batch_size, 10**9
        )


def run(args):
    overrides = parse_overrides(args.set)
    config = PipelineConfig().with_overrides(**overrides)
    out = ROOT / args.name
    (out / "grids").mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps({"overrides": overrides, **vars(args)}, indent=1))
    transformed, graph = transformed_data(config)
    train_images = np.concatenate(list(real_batches(transformed, graph, ["train"])))
    probe = QualityProbe([train_images], args.samples, config.z_dim)
    curve_path = out / "curve.jsonl"
    done_steps = set()
    if curve_path.exists():
        done_steps = {json.loads(line)["step"] for line in curve_path.read_text().splitlines()}
    if 0 not in done_steps:
        held_out = np.concatenate(list(real_batches(transformed, graph, ["eval", "test"])))
        if len(held_out) < args.samples:  # too few held-out images: add ones from the end of train
            held_out = np.concatenate(
                [held_out, train_images[::-1][: args.samples - len(held_out)]]
            )
        real = probe.score_images(held_out[: args.samples])
        _append(curve_path, {"step": 0, "kind": "real_vs_real", "train_seconds": 0.0, **real})
        print("real vs real", _short(real), flush=True)

    set_precision(config.precision)
    dataset = training_batches(config, transformed, graph)
    gan = build_dcgan(TrainerSettings.of(config))
    view = ExportView(gan.generator, config.z_dim, gan.generator_average)
    quality = QualityScores(probe, view)  # the Trainer's own side job; TensorBoard is a no-op here
    grid_z = images.latent_points(GRID_FACES, config.z_dim, seed=2024)
    started = time.perf_counter()
    offset = _last_seconds(curve_path)  # a resumed run continues the clock

    def on_step(step):
        if (step % args.every and step != args.steps) or step in done_steps:
            return
        seconds = offset + time.perf_counter() - started - quality.seconds
        probe_seconds = quality.seconds
        values = quality.record(step)
        images.save_image_grid(
            view.copy(grid_z, training=False).numpy(),
            str(out / "grids" / f"step_{step:05d}.png"),
            columns=6,
        )
        _append(
            curve_path,
            {
                "step": step,
                "kind": "model",
                "train_seconds": round(seconds, 1),
                "probe_seconds": round(quality.seconds - probe_seconds, 1),
                **{f"{name}/{probe.extractor.name}": value for name, value in values.items()},
            },
        )
        print(f"\nstep {step} train_s {seconds:.0f}", _short(values), flush=True)

    settings = LoopSettings(
        steps=args.steps,
        global_batch_size=config.batch_size,
        steps_per_epoch=10**9,
        checkpoint_dir=str(out / "checkpoints"),
        checkpoint_every_steps=args.every,
        log_dir=None,
        log_every_steps=args.every,
        eval_every_steps=0,
    )  # scored by on_step, which also writes the grids
    train(gan, dataset, settings, jobs=standard_jobs(gan, settings, on_step=on_step))


def _append(path, record):
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")


def _last_seconds(path) -> float:
    if not path.exists():
        return 0.0
    return max(
        [json.loads(line)["train_seconds"] for line in path.read_text().splitlines()] or [0.0]
    )


def _short(values: dict) -> str:
    return " ".join(f"{k.split('/')[0]}={v:.3f}" for k, v in values.items() if isinstance(v, float))


def load_curve(name):
    return [json.loads(line) for line in (ROOT / name / "curve.jsonl").read_text().splitlines()]


def report(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = ["fid", "kid", "precision", "recall", "density", "coverage"]
    key = lambda m: f"{m}/random_embedding"  # noqa: E731
    print("| run | step | train s | " + " | ".join(metrics) + " |")
    print("| --- | --- | --- | " + " | ".join("---" for _ in metrics) + " |")
    figure, axes = plt.subplots(2, len(metrics), figsize=(4 * len(metrics), 7))
    for name in args.names:
        curve = load_curve(name)
        real = next(p for p in curve if p["kind"] == "real_vs_real")
        points = sorted((p for p in curve if p["kind"] == "model"), key=lambda p: p["step"])
        print(
            f"| {name}: real vs real | | | "
            + " | ".join(f"{real[key(m)]:.3g}" for m in metrics)
            + " |"
        )
        for p in points:
            print(
                f"| {name} | {p['step']} | {p['train_seconds']:.0f} | "
                + " | ".join(f"{p[key(m)]:.3g}" for m in metrics)
                + " |"
            )
        for column, metric in enumerate(metrics):
            for row, x in enumerate(("step", "train_seconds")):
                axis = axes[row][column]
                (line,) = axis.plot(
                    [p[x] for p in points], [p[key(metric)] for p in points], marker="o", label=name
                )
                axis.axhline(real[key(metric)], color=line.get_color(), linestyle=":")
                axis.set_xlabel("training step" if x == "step" else "training seconds (2 cores)")
                axis.set_title(metric)
    axes[0][0].legend(fontsize=7)
    figure.suptitle("dotted: real vs real at the same sample count")
    figure.tight_layout()
    figure.savefig(f"{args.out}.png", dpi=80)
    print(f"plot: {args.out}.png")


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run")
    run_parser.add_argument("--name", required=True)
    run_parser.add_argument("--steps", type=int, default=2000)
    run_parser.add_argument("--every", type=int, default=250)
    run_parser.add_argument("--samples", type=int, default=1000)
    run_parser.add_argument("--set", nargs="*", default=[], help="PipelineConfig field=value")
    report_parser = commands.add_parser("report")
    report_parser.add_argument("names", nargs="+")
    report_parser.add_argument("--out", default=str(PROJECT_ROOT / "docs" / "quality"))
    args = parser.parse_args()
    run(args) if args.command == "run" else report(args)


if __name__ == "__main__":
    main()
