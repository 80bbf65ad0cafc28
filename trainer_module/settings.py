"""What the Trainer's `run_fn` is told, typed: built once from PipelineConfig, read back whole.

`PipelineConfig.trainer_settings()` builds a TrainerSettings from the config's fields of the same
names (the defaults and their reasons live there, once). It reaches `run_fn` as the Trainer's
`custom_config` (TFX stores it as JSON on the execution), and `from_custom_config` reads it back
without fallbacks: a missing or unknown key is an error, not a silent default. The same dict
travels with the exported model (trainer_module/export.py) and feeds the run report.
"""
from __future__ import annotations

import dataclasses

from common import read_whole


@dataclasses.dataclass(frozen=True)
class TrainerSettings:
    batch_size: int
    z_dim: int
    image_size: int
    g_learning_rate: float
    d_learning_rate: float
    beta_1: float
    generator_ema_decay: float
    loss: str
    real_label: float
    real_label_noise: float
    fake_label_noise: float
    label_flip_probability: float
    variant: str
    generator_filters: int
    discriminator_filters: int
    conditional: bool
    conditioning: str
    d_attribute_weight: float
    g_attribute_weight: float
    mismatch_weight: float
    attributes: tuple  # the conditions' order, for a conditional model
    train_seed: int
    shuffle_buffer: int
    checkpoint_every_steps: int
    checkpoint_root: str  # a crashed Trainer's checkpoints, outside TFX's per-execution folders
    log_every_steps: int
    eval_every_steps: int
    probe_samples: int
    steps_per_epoch: int
    distribute_strategy: str
    precision: str
    sample_grid_size: int

    def __post_init__(self):
        # Checked when the pipeline is built, not minutes into a run.
        from trainer_module.networks import CONDITIONINGS, check_widths
        object.__setattr__(self, "attributes", tuple(self.attributes))  # JSON brings a list
        check_widths(self.image_size, self.generator_filters, self.discriminator_filters)
        if self.conditional:
            if not self.attributes:
                raise ValueError("a conditional model needs attributes to be conditioned on")
            if self.conditioning not in CONDITIONINGS:
                raise ValueError(f"conditioning must be one of {CONDITIONINGS}, not "
                                 f"{self.conditioning!r}")
            if self.conditioning == "auxiliary" and not self.d_attribute_weight:
                raise ValueError("an auxiliary D learns the attributes only through its head: "
                                 "d_attribute_weight must be > 0")
            if self.conditioning == "auxiliary" and self.mismatch_weight:
                raise ValueError("mismatch_weight needs a D that reads the codes "
                                 "(projection), not auxiliary")

    @property
    def attribute_head(self) -> bool:
        """Whether D has the attribute head (trainer_module/networks.py)."""
        return self.conditional and (self.conditioning == "auxiliary"
                                     or bool(self.d_attribute_weight or self.g_attribute_weight))

    def to_custom_config(self) -> dict:
        """As TFX stores it (JSON): the attribute names as a list."""
        return {**dataclasses.asdict(self), "attributes": list(self.attributes)}

    @classmethod
    def from_custom_config(cls, custom_config: dict) -> "TrainerSettings":
        return read_whole(cls, custom_config, "PipelineConfig.trainer_settings()")

