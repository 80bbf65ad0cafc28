"""The tiny configuration the end-to-end runs share: 64 built-in images, a 2-step Trainer."""
from pipeline_config import PipelineConfig


def tiny_config(root, **overrides) -> PipelineConfig:
    """Data under root/data, outputs under root/out, batches of 16, 64 evaluated samples (200 for
    the attribute directions, which need 10 on each side of an attribute), and
    blessed whatever the FD ratio, precision and recall (2 steps cannot halve the ratio nor reach
    a fraction of real-vs-real precision), so that Pusher runs."""
    return PipelineConfig(
        data_root=str(root / "data"), output_root=str(root / "out"), synthetic_num_images=64,
        train_steps=2, batch_size=16, eval_num_samples=64, eval_batch_size=32, sample_grid_size=4,
        attribute_samples=200,
        max_fd_ratio_to_untrained=100.0, eval_min_precision_fraction=0.0,
        eval_min_recall_fraction=0.0).with_overrides(**overrides)
