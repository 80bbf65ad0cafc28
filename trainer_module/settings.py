"""What the Trainer's `run_fn` is told, typed: each setting declared here once, with its default
and its reason; read back whole.

`ModelShape` holds what the Trainer and the evaluator must agree on (the faces' size, the
attributes, the generator's input and width); `TrainerFields` the Trainer's own settings.
PipelineConfig composes these groups (and the evaluator's and ExampleGen's), so a setting is
set there under the same name; `PipelineConfig.trainer_settings()` builds a TrainerSettings from
it. It reaches `run_fn` as the Trainer's `custom_config` (TFX stores it as JSON on the
execution), and `from_custom_config` reads it back without fallbacks: a missing or unknown key is
an error, not a silent default. The same dict travels with the exported model
(trainer_module/export.py) and feeds the run report.
"""

from __future__ import annotations

import dataclasses

from common import check_choices, read_whole, settings_as_dict
from data.synthetic_celeba import CONTROLLED_ATTRIBUTES
from trainer_module.choices import Conditioning, DistributeStrategy, Loss, Precision, Variant


@dataclasses.dataclass(frozen=True)
class ModelShape:
    """What the Trainer and the evaluator (its untrained generator of the same shape, its grids,
    its attribute measures) must agree on."""

    z_dim: int = 100
    image_size: int = 64  # the faces Transform makes and G draws
    variant: Variant = (
        "seed"  # "seed" (the article) or "paper" (Radford et al.: ReLU in G, N(0, .02))
    )
    # G's first feature maps, halved by each upsampling block (D's: TrainerFields). 512 is
    # PyTorch's DCGAN example's G (8 * ngf, ngf = 64); the seed's is twice as wide
    # (seed_recipe.py). Why the default is the narrower: docs/quality.md, "G's width".
    generator_filters: int = 512
    # CelebA attributes (names as in list_attr_celeba.txt) that Transform passes on, each as
    # attr_<Name>: 1 present, 0 absent, -1 unknown (no row for the image, or no file). The
    # default is what the built-in set draws, the attributes whose labels are true there. The
    # evaluator measures them on any model; a conditional one is conditioned on them, in this
    # order.
    attributes: tuple = CONTROLLED_ATTRIBUTES
    # G(z, a), conditioned on the `attributes` (docs/attributes.md): faces on request.
    conditional: bool = False
    sample_grid_size: int = 8  # sample grids are N x N faces


@dataclasses.dataclass(frozen=True)
class TrainerFields(ModelShape):
    """The Trainer's own settings (the seed's DCGAN and the loop around it)."""

    batch_size: int = 32  # the fastest to faces per CPU-second of 32/64/128 (docs/quality.md)
    g_learning_rate: float = 2e-4  # Adam's, for G
    d_learning_rate: float = 2e-4  # Adam's, for D (two time-scale when it differs from G's)
    beta_1: float = 0.5
    # The exported G is the moving average of G's weights with this decay (ramped up from the
    # start, trainer_module/weight_average.py): better FD, precision and recall from the same
    # training (docs/quality.md, "Averaging G's weights"); 0: G's last weights, as the seed's.
    generator_ema_decay: float = 0.999
    loss: Loss = "bce"  # "bce" (the seed's) or "least_squares" (LSGAN; D without its sigmoid)
    real_label: float = 1.0  # D's target for real images (< 1: one-sided label smoothing)
    real_label_noise: float = 0.0  # real labels ~ real_label + this * U(-1, 1); the seed: 0.5
    fake_label_noise: float = 0.0  # fake labels ~ this * U(0, 1); the seed: 0.25
    label_flip_probability: float = 0.0  # chance that D sees an example's labels swapped
    discriminator_filters: int = 64  # D's first convolution's filters, doubled by each block
    # How a conditional D learns the attributes: with an attribute head on its last feature
    # maps, "auxiliary" (AC-GAN: the head trained on real faces, d_attribute_weight, and G scored
    # on the asked attributes through it, g_attribute_weight; AttGAN's 1 and 10), or also
    # reading them, "projection" (Miyato & Koyama 2018; the head too when a weight is above 0),
    # where real faces with one attribute flipped can count as fakes (mismatch_weight). The
    # defaults are the recipe that measured best side by side.
    conditioning: Conditioning = "auxiliary"
    d_attribute_weight: float = 1.0
    g_attribute_weight: float = 10.0
    mismatch_weight: float = 0.0
    train_seed: int = 0  # initial weights, z and label noise
    shuffle_buffer: int = 4096
    checkpoint_every_steps: int = 100  # full-state checkpoints for resuming a crashed Trainer
    log_every_steps: int = 5  # TensorBoard scalars
    # Quality during training (TensorBoard quality/*): every N steps and at the last; 0 = off.
    eval_every_steps: int = 100
    # Fixed z of the probe, scored against the first as many train images (all, if fewer).
    probe_samples: int = 500
    steps_per_epoch: int = 0  # 0: train examples // batch_size, counted once per run
    # auto (MultiWorkerMirrored when TF_CONFIG names several workers, Mirrored on several GPUs),
    # default, mirrored, multi_worker (trainer_module/run.py: choose_strategy; docs/scale.md).
    distribute_strategy: DistributeStrategy = "auto"
    # Keras precision policy: "auto" (mixed_bfloat16 on a CPU with AMX or AVX512_BF16, float32
    # elsewhere: precision.choose_precision; docs/quality.md, "bfloat16"), float32 (the seed's),
    # mixed_float16 for GPUs (with loss scaling), mixed_bfloat16. Exports serve float32 always.
    precision: Precision = "auto"


@dataclasses.dataclass(frozen=True)
class TrainerSettings(TrainerFields):
    """TrainerFields as run_fn reads them, and where a crashed Trainer's checkpoints are kept
    (outside TFX's per-execution folders; derived from the pipeline root)."""

    checkpoint_root: str = ""

    def __post_init__(self):
        # Checked when the pipeline is built, not minutes into a run.
        from trainer_module.networks import check_widths

        check_choices(self)
        check_widths(self.image_size, self.generator_filters, self.discriminator_filters)
        if self.conditional:
            if not self.attributes:
                raise ValueError("a conditional model needs attributes to be conditioned on")
            if self.conditioning == "auxiliary" and not self.d_attribute_weight:
                raise ValueError(
                    "an auxiliary D learns the attributes only through its head: "
                    "d_attribute_weight must be > 0"
                )
            if self.conditioning == "auxiliary" and self.mismatch_weight:
                raise ValueError(
                    "mismatch_weight needs a D that reads the codes (projection), not auxiliary"
                )

    @property
    def attribute_head(self) -> bool:
        """Whether D has the attribute head (trainer_module/networks.py)."""
        return self.conditional and (
            self.conditioning == "auxiliary"
            or bool(self.d_attribute_weight or self.g_attribute_weight)
        )

    def to_custom_config(self) -> dict:
        """As TFX stores it (JSON)."""
        return settings_as_dict(self)

    @classmethod
    def from_custom_config(cls, custom_config: dict) -> TrainerSettings:
        return read_whole(cls, custom_config, "PipelineConfig.trainer_settings()")
