"""Image-quality metrics and the feature extractors they read: Fréchet distance (FID), kernel
distance (KID), precision/recall/density/coverage, sliced Wasserstein distance, MS-SSIM, and the
streaming statistics and sample sets they are computed from.

The bottom layer with `common`: the evaluator, the Trainer's quality probe, the CLI and the
report import these modules; they import nothing of the project but `common`. Each metric is a
small float64 function tested alone (tests/test_metrics_*.py).
"""

import tf_environment  # noqa: F401  (set before TensorFlow loads)
