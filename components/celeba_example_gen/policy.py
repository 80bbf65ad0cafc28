"""What CelebAExampleGen accepts and when it stops a run (docs/ingestion.md): IngestionFields,
declared with their defaults in pipeline_config.py, as the component carries them
(`IngestionPolicy.of(config)`).

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
from pipeline_config import IngestionFields, PipelineConfig, same_named


@dataclasses.dataclass(frozen=True)
class IngestionPolicy(IngestionFields):
    """The policy as it travels to the executor and back."""

    @classmethod
    def of(cls, config: PipelineConfig) -> IngestionPolicy:
        return same_named(cls, config)

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
        return read_whole(cls, json_format.MessageToDict(struct), "IngestionPolicy.of(config)")
