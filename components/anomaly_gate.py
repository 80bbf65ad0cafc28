"""AnomalyGate: stops the pipeline before Transform when ExampleValidator found anomalies.

TFX 1.16's ExampleValidator writes the anomalies (and a per-split `blessed` property) but always
completes, so nothing downstream would stop. This component sits between it and Transform:
Transform takes its schema from here, so it only runs once every split validated clean, and a
failed run names the anomalies in its one-line error.
"""

# No `from __future__ import annotations`: @component reads the annotations as types.
import os

from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx import v1 as tfx
from tfx.components.example_validator.executor import DEFAULT_FILE_NAME
from tfx.components.schema_gen.executor import DEFAULT_FILE_NAME as SCHEMA_FILE_NAME
from tfx.dsl.io import fileio
from tfx.types import artifact_utils, standard_artifacts
from tfx.utils import io_utils


class DataAnomaliesError(RuntimeError):
    """The examples do not match the schema; the message names each anomaly."""


def describe(split: str, anomalies: anomalies_pb2.Anomalies) -> list[str]:
    """'split: feature: short description (description)' for each anomaly of one split."""
    found = [
        f"{split}: {feature}: {info.short_description} ({info.description})"
        for feature, info in sorted(anomalies.anomaly_info.items())
    ]
    if anomalies.HasField("dataset_anomaly_info"):
        info = anomalies.dataset_anomaly_info
        found.append(f"{split}: dataset: {info.short_description} ({info.description})")
    return found


def describe_anomalies(anomalies: standard_artifacts.ExampleAnomalies) -> list[str]:
    """Every anomaly ExampleValidator recorded, split by split."""
    found = []
    for split in artifact_utils.decode_split_names(anomalies.split_names):
        path = os.path.join(artifact_utils.get_split_uri([anomalies], split), DEFAULT_FILE_NAME)
        with fileio.open(path, "rb") as f:
            found.extend(describe(split, anomalies_pb2.Anomalies.FromString(f.read())))
    return found


def raise_on_anomalies(anomalies: standard_artifacts.ExampleAnomalies) -> None:
    found = describe_anomalies(anomalies)
    if found:
        raise DataAnomaliesError(
            f"ExampleValidator found {len(found)} anomalies against the schema, stopping before "
            f"Transform: {'; '.join(found)}. Details: {anomalies.uri}"
        )


@tfx.dsl.components.component
def AnomalyGate(
    anomalies: tfx.dsl.components.InputArtifact[standard_artifacts.ExampleAnomalies],
    schema: tfx.dsl.components.InputArtifact[standard_artifacts.Schema],
    checked_schema: tfx.dsl.components.OutputArtifact[standard_artifacts.Schema],
) -> None:
    """Passes `schema` on as `checked_schema` when there are no anomalies, else raises."""
    raise_on_anomalies(anomalies)
    io_utils.copy_file(
        os.path.join(schema.uri, SCHEMA_FILE_NAME),
        os.path.join(checked_schema.uri, SCHEMA_FILE_NAME),
    )
