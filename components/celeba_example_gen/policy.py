"""What CelebAExampleGen accepts and when it stops a run: the `# --- Data` knobs it needs.

The policy travels to the executor in FileBasedExampleGen's own `custom_config` (a Struct packed
into example_gen_pb2.CustomConfig), so it is part of the component's cache key like any other
exec property and reaches remote Beam workers without extra plumbing.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict

from google.protobuf import json_format, struct_pb2
from tfx.proto import example_gen_pb2
from tfx.utils import proto_utils


@dataclasses.dataclass(frozen=True)
class IngestionPolicy:
    """Field names and meanings are those of PipelineConfig's Data section, which builds it
    (`PipelineConfig.ingestion_policy()`)."""

    allowed_image_formats: tuple  # Pillow format names, e.g. ("JPEG", "PNG")
    min_image_side: int  # narrower or shorter images are rejected as too small
    max_image_pixels: int  # width * height limit, checked from the header before decoding
    max_image_bytes: int  # larger files are rejected before they are read into memory
    max_rejected_fraction: float  # the run stops when rejected / files seen exceeds it

    def to_custom_config(self) -> example_gen_pb2.CustomConfig:
        struct = struct_pb2.Struct()
        struct.update({key: list(value) if isinstance(value, tuple) else value
                       for key, value in self.as_dict().items()})
        custom_config = example_gen_pb2.CustomConfig()
        custom_config.custom_config.Pack(struct)
        return custom_config

    @classmethod
    def from_exec_properties(cls, exec_properties: Dict[str, Any]) -> "IngestionPolicy":
        """The policy the component packed; JSON numbers come back as floats, so cast by field."""
        custom_config = example_gen_pb2.CustomConfig()
        proto_utils.json_to_proto(exec_properties["custom_config"], custom_config)
        struct = struct_pb2.Struct()
        custom_config.custom_config.Unpack(struct)
        values = json_format.MessageToDict(struct)
        return cls(**{field.name: _cast(field.type, values[field.name])
                      for field in dataclasses.fields(cls)})

    def as_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


def _cast(type_name: str, value: Any) -> Any:
    return {"int": int, "float": float, "tuple": tuple}[type_name](value)
