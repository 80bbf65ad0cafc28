"""What CelebAExampleGen accepts and when it stops a run (docs/ingestion.md): each setting
declared here once, with its default; PipelineConfig composes them under the same names and
builds the policy (`PipelineConfig.ingestion_policy()`).

The policy travels to the executor in FileBasedExampleGen's own `custom_config` (a Struct packed
into example_gen_pb2.CustomConfig), so it is part of the component's cache key like any other
exec property and reaches remote Beam workers without extra plumbing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from google.protobuf import json_format, struct_pb2
from tfx.proto import example_gen_pb2
from tfx.utils import proto_utils

from common import read_whole, settings_as_dict


@dataclasses.dataclass(frozen=True)
class IngestionFields:
    """The format is read from the bytes, not the file name; other files are set aside with a
    reason in the ingestion report."""

    allowed_image_formats: tuple = ("JPEG", "PNG")  # Pillow format names
    # Narrower or shorter images are rejected: the generator's output size, smaller images would
    # be upscaled.
    min_image_side: int = 64
    # width * height limit, checked from the header before decoding (decompression bombs).
    max_image_pixels: int = 4096 * 4096
    max_image_bytes: int = 16 * 2**20  # larger files are rejected before they are read into memory
    max_rejected_fraction: float = 0.01  # more set aside than this (of files seen) stops the run


@dataclasses.dataclass(frozen=True)
class IngestionPolicy(IngestionFields):
    """The policy as it travels to the executor and back."""

    def to_custom_config(self) -> example_gen_pb2.CustomConfig:
        struct = struct_pb2.Struct()
        struct.update(settings_as_dict(self))
        custom_config = example_gen_pb2.CustomConfig()
        custom_config.custom_config.Pack(struct)
        return custom_config

    @classmethod
    def from_exec_properties(cls, exec_properties: dict[str, Any]) -> IngestionPolicy:
        """The policy the component packed (its numbers come back as floats: read_whole casts
        them by field)."""
        custom_config = example_gen_pb2.CustomConfig()
        proto_utils.json_to_proto(exec_properties["custom_config"], custom_config)
        struct = struct_pb2.Struct()
        custom_config.custom_config.Unpack(struct)
        return read_whole(
            cls, json_format.MessageToDict(struct), "PipelineConfig.ingestion_policy()"
        )
