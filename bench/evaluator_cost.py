"""Peak memory and where the time goes in the GAN evaluator, for 1,000 vs 10,000 samples.

    .venv/bin/python bench/evaluator_cost.py [--samples 1000 10000] [--generator dcgan|blocks]
                                             [--metrics fid kid prdc ms_ssim] [--real 2000]

Each sample count runs in a fresh process (peak RSS is per process) and does the evaluator's
default work without the statistics cache: the reference statistics of `--real` images, then the
candidate and the untrained generator, `--samples` images each. `dcgan` is the Trainer's
generator, freshly initialised (the real generation cost); `blocks` is a cheap stand-in that turns
z into blocky images, for measuring the evaluator alone. Prints one line per count, then the
ratio of the peaks: memory should stay flat, since only the subsets are kept.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import bootstrap  # noqa: E402

bootstrap.start()

import numpy as np  # noqa: E402

from components.gan_evaluator import sources  # noqa: E402
from components.gan_evaluator.evaluation import Evaluation  # noqa: E402
from components.gan_evaluator.settings import EvaluatorSettings  # noqa: E402
from metrics.timing import PhaseTimer  # noqa: E402
from pipeline_config import PipelineConfig  # noqa: E402
from trainer_module.seed_recipe import SEED_GENERATOR_FILTERS  # noqa: E402

REAL_SEED = 99


def blocks_generator(z: np.ndarray) -> np.ndarray:
    """z -> 64x64 images of 4x4 colour blocks: deterministic, and nearly free to compute."""
    blocks = np.tanh(z[:, :48].reshape(-1, 4, 4, 3))
    return np.rint((blocks + 1) * 127.5).astype(np.uint8).repeat(16, axis=1).repeat(16, axis=2)


def current_rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def seed_width_generator(settings):
    """An untrained DCGAN generator of the seed's width (docs/evaluation.md's cost figures)."""
    return sources.untrained_generator(
        z_dim=settings.z_dim,
        variant=settings.variant,
        image_size=settings.image_size,
        attributes=0,
        filters=SEED_GENERATOR_FILTERS,
        attribute_table=None,
    )


def measure(samples: int, generator: str, metrics: tuple, real: int) -> dict:
    settings = EvaluatorSettings.of(
        PipelineConfig(
            eval_num_samples=samples, eval_metrics=tuple(metrics), eval_cache_statistics=False
        )
    )
    dcgan = generator == "dcgan"
    candidate = seed_width_generator(settings) if dcgan else (blocks_generator, "b")
    untrained = seed_width_generator(settings) if dcgan else (blocks_generator, "b")
    real_z = sources.latent_points(real, settings.z_dim, seed=REAL_SEED)
    rss_before = current_rss_mib()
    timer = PhaseTimer()
    started = time.perf_counter()
    evaluation = Evaluation(
        settings,
        {"kind": "bench"},
        lambda: sources.generated_batches(blocks_generator, real_z, settings.eval_batch_size),
        timer,
    )
    evaluation.score(candidate, untrained)
    return {
        "samples": samples,
        "seconds": time.perf_counter() - started,
        "phases": dict(timer.seconds),
        "rss_before_mib": rss_before,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--generator", choices=("dcgan", "blocks"), default="dcgan")
    parser.add_argument("--metrics", nargs="+", default=list(PipelineConfig().eval_metrics))
    parser.add_argument("--real", type=int, default=2000, help="reference images")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.samples[0], args.generator, tuple(args.metrics), args.real)))
        return
    peaks = []
    for samples in args.samples:
        command = [
            sys.executable,
            __file__,
            "--child",
            "--samples",
            str(samples),
            "--generator",
            args.generator,
            "--real",
            str(args.real),
            "--metrics",
            *args.metrics,
        ]
        result = json.loads(
            subprocess.run(command, check=True, capture_output=True, text=True)
            .stdout.strip()
            .splitlines()[-1]
        )
        phases = ", ".join(
            f"{name} {seconds:.1f} s"
            for name, seconds in sorted(result["phases"].items(), key=lambda kv: -kv[1])
        )
        print(
            f"evaluator samples={samples} generator={args.generator} "
            f"seconds={result['seconds']:.1f} peak_rss_mib={result['peak_rss_mib']:.0f} "
            f"(before scoring {result['rss_before_mib']:.0f}) | {phases}"
        )
        peaks.append(result["peak_rss_mib"])
    if len(peaks) > 1:
        print(
            f"peak memory ratio {args.samples[-1]} / {args.samples[0]} samples: "
            f"{peaks[-1] / peaks[0]:.3f}"
        )


if __name__ == "__main__":
    main()
