"""Storage that works on the cloud: every artifact is read and written through tf.io.gfile or
TFX's fileio, so a pipeline root in gs:// (Kubeflow, Vertex AI) works as a local one does.

Checked on TensorFlow's in-memory filesystem (ram://), which has no local path behind it: a
builtin open() or an os.path call on an artifact fails there as it would on gs://. And a grep
keeps such calls out of the code that handles artifacts."""

import io
import json
import os
import re
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
# The code that reads or writes artifacts (components, the Trainer, the metrics' cache, the
# report, the CLI's model loading).
ARTIFACT_CODE = [
    *ROOT.glob("components/**/*.py"),
    *ROOT.glob("trainer_module/*.py"),
    *ROOT.glob("metrics/*.py"),
    *ROOT.glob("reporting/*.py"),
    ROOT / "dcgan_faces" / "generator.py",
    ROOT / "dcgan_faces" / "directions.py",
]
LOCAL_FILE_CALL = re.compile(
    r"(?<![\w.])open\(|os\.path\.(exists|isfile|isdir|getsize)\("
    r"|os\.(listdir|makedirs|walk|remove|rename)\(|shutil\."
)
# Local by nature, each with why: (file, text of the line).
LOCAL_BY_NATURE = {
    (
        "trainer_module/run.py",
        "for name in sorted(os.listdir(directory)):",
    ): "the training code's own .py files, hashed for the resume key",
    (
        "trainer_module/run.py",
        'with open(os.path.join(directory, name), "rb") as f:',
    ): "the training code's own .py files, hashed for the resume key",
    (
        "components/celeba_example_gen/inventory.py",
        'if name.endswith("/") or (root.local and not os.path.isfile(path)):',
    ): "asked only of a local data root",
    (
        "reporting/run_outputs.py",
        "if not os.path.isfile(metadata_path):",
    ): "ML Metadata's SQLite file, local by nature",
    (
        "dcgan_faces/directions.py",
        "if not os.path.isfile(metadata_path):",
    ): "ML Metadata's SQLite file, local by nature",
    (
        "metrics/extractors.py",
        "if not os.path.isfile(path):",
    ): "Keras' Inception weights file, which h5py reads from a local path",
}


def test_the_code_that_handles_artifacts_makes_no_local_file_calls():
    found = {
        (str(path.relative_to(ROOT)), line.strip())
        for path in ARTIFACT_CODE
        for line in path.read_text().splitlines()
        if LOCAL_FILE_CALL.search(line) and not line.strip().startswith("#")
    }
    assert found - set(LOCAL_BY_NATURE) == set()
    assert set(LOCAL_BY_NATURE) - found == set()  # the list stays true


@pytest.mark.slow
def test_the_evaluator_pusher_report_and_cli_work_on_a_non_local_filesystem(tmp_path, capsys):
    """A model, Transform's outputs and every output of the evaluator and the Pusher in ram://:
    the evaluator scores and blesses, the Pusher pushes, the report embeds the evaluator's grid,
    and `dcgan-faces sample` draws faces from the pushed model."""
    import tensorflow as tf
    from test_gan_evaluator_executor import (
        artifact,
        exec_properties,
        export_tiny_generator,
        write_transformed_examples,
    )
    from tfx.components.pusher import executor as pusher_executor
    from tfx.proto import pusher_pb2
    from tfx.types import standard_artifacts
    from tfx.utils import proto_utils

    from components.gan_evaluator import executor
    from components.gan_evaluator import results as evaluator_results
    from dcgan_faces import cli, generator
    from reporting import report_html, run_outputs

    root = f"ram://storage-test-{uuid.uuid4().hex}"
    examples, graph = write_transformed_examples(root)
    model = export_tiny_generator(f"{root}/model", 7, seed=1)
    evaluation = artifact(standard_artifacts.ModelEvaluation, f"{root}/evaluation")
    blessing = artifact(standard_artifacts.ModelBlessing, f"{root}/blessing")
    executor.Executor().Do(
        {"model": [model], "transformed_examples": [examples], "transform_graph": [graph]},
        {"evaluation": [evaluation], "blessing": [blessing]},
        exec_properties(root),
    )
    metrics = json.loads(
        tf.io.gfile.GFile(f"{root}/evaluation/{evaluator_results.METRICS_FILE}").read()
    )
    assert metrics["blessed"] and np.isfinite(metrics["fid/random_embedding"])
    assert tf.io.gfile.exists(f"{root}/blessing/BLESSED")
    assert tf.io.gfile.listdir(f"{root}/cache")  # the statistics cache, written there too
    assert not os.path.exists(root.split("://")[1])  # nothing landed in a local folder

    pushed = artifact(standard_artifacts.PushedModel, f"{root}/pushed")
    destination = pusher_pb2.PushDestination(
        filesystem=pusher_pb2.PushDestination.Filesystem(base_directory=f"{root}/serving")
    )
    pusher_executor.Executor().Do(
        {"model": [model], "model_blessing": [blessing]},
        {"pushed_model": [pushed]},
        {"push_destination": proto_utils.proto_to_json(destination)},
    )
    assert pushed.get_int_custom_property("pushed") == 1

    from ml_metadata.proto import metadata_store_pb2

    recorded = metadata_store_pb2.Artifact(uri=evaluation.uri)
    assert run_outputs.read_metrics(recorded) == metrics
    image = report_html.embedded_image(
        f"{root}/evaluation/{evaluator_results.SAMPLE_GRID_FILE}", "sample grid"
    )
    assert image["uri"].startswith("data:image/png;base64,")

    found = generator.find_export_dir(f"{root}/serving")
    assert found == pushed.get_string_custom_property("pushed_destination")
    grid = tmp_path / "faces.png"
    assert cli.main(["sample", f"{root}/serving", "-n", "4", "--grid", str(grid)]) == 0
    assert f"from {found}" in capsys.readouterr().out
    faces = np.asarray(Image.open(io.BytesIO(grid.read_bytes())))
    assert faces.ndim == 3 and faces.std() > 0
