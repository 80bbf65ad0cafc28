"""A small fixed-seed run of the whole pipeline, deterministic ops on: its evaluator's metrics as
one JSON line, to show that a change which should not change behaviour does not.

    .venv/bin/python bench/fixed_seed_run.py OUTPUT_DIR > after.txt
    git worktree add /tmp/before REV && cp bench/fixed_seed_run.py /tmp/before/bench/
    (cd /tmp/before && PYTHONPATH=/tmp/before ../main/.venv/bin/python bench/fixed_seed_run.py
     OTHER_DIR > before.txt)      # then compare the METRICS lines

300 built-in images, 40 steps of 16 on narrow networks, every evaluator size cut down: about a
minute and a half on 2 cores. The code is the checkout the script sits in; in a checkout from
between b382cae and the return to the top-level layout, its two project imports start with
`celeba_dcgan.`.
"""

import glob
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")  # the same bits from the same seed
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # older checkouts have no bootstrap
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from pipeline.run_local import prepare_data, run  # noqa: E402
from pipeline_config import PipelineConfig  # noqa: E402


def main() -> None:
    root = sys.argv[1]
    config = PipelineConfig(
        data_root=os.path.join(root, "data"),
        output_root=os.path.join(root, "out"),
        synthetic_num_images=300,
        train_steps=40,
        batch_size=16,
        generator_filters=128,
        discriminator_filters=16,
        eval_num_samples=300,
        eval_batch_size=100,
        sample_grid_size=4,
        attribute_samples=300,
        eval_feature_subset_size=100,
        eval_image_subset_size=100,
        eval_kid_subset_size=100,
        eval_ms_ssim_pairs=100,
        probe_samples=50,
        eval_every_steps=20,
        max_fd_ratio_to_untrained=100.0,
        eval_min_precision_fraction=0.0,
        eval_min_recall_fraction=0.0,
        precision="float32",
    )  # the same numerics on every CPU kind
    prepare_data(config)
    run(config)
    (path,) = glob.glob(
        os.path.join(config.pipeline_root, "GanEvaluator", "evaluation", "*", "metrics.json")
    )
    with open(path) as f:
        print("METRICS " + json.dumps(json.load(f), sort_keys=True))


if __name__ == "__main__":
    main()
