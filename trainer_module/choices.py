"""The settings that are a choice among names, each declared once as a Literal.

The settings (trainer_module/settings.py, pipeline_config.py) are typed with these, and
common.check_choices refuses any other value when they are built; the code that acts on a
choice reads its names from here (networks.VARIANTS, run.PRECISIONS, ...).
"""

from typing import Literal

Variant = Literal["seed", "paper"]  # the article's networks, or Radford et al.'s (networks.py)
Loss = Literal["bce", "least_squares"]  # dcgan.py
Conditioning = Literal["auxiliary", "projection"]  # how a conditional D learns the attributes
# distribution.choose_strategy
DistributeStrategy = Literal["auto", "default", "mirrored", "multi_worker"]
# precision.choose_precision
Precision = Literal["auto", "float32", "mixed_float16", "mixed_bfloat16"]
CropMode = Literal["squash", "center_square", "center_108", "center_140", "center_160"]
