"""What the Trainer's `run_fn` is told, typed: TrainerFields and ModelShape (declared, with their
defaults and reasons, in pipeline_config.py) and where a crashed Trainer's checkpoints go.

`TrainerSettings.of(config)` builds it from a PipelineConfig and checks it, when the pipeline is
built. It reaches `run_fn` as the Trainer's `custom_config` (TFX stores it as JSON on the
execution), and `from_custom_config` reads it back without fallbacks: a missing or unknown key is
an error, not a silent default. The same dict travels with the exported model
(trainer_module/export.py) and feeds the run report.
"""

from __future__ import annotations

import dataclasses

from common import check_choices, read_whole, settings_as_dict
from pipeline_config import PipelineConfig, TrainerFields, same_named


@dataclasses.dataclass(frozen=True)
class TrainerSettings(TrainerFields):
    """TrainerFields as run_fn reads them, and where a crashed Trainer's checkpoints are kept
    (outside TFX's per-execution folders; derived from the pipeline root)."""

    checkpoint_root: str = ""

    @classmethod
    def of(cls, config: PipelineConfig) -> TrainerSettings:
        """The config's Trainer and model settings, and its checkpoint folder."""
        return same_named(cls, config)

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
        return read_whole(cls, custom_config, "TrainerSettings.of(config)")
