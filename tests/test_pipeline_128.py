"""image_size=128 end to end: Transform, Trainer, evaluator, export, Pusher and the CLI, with
Beam's DirectRunner in multi_processing mode (2 worker processes), as a Kubeflow pod without
Dataflow runs it: every DoFn pickled to another process, nothing shared with the launcher.

The model is conditional (G(z, a), the default conditioning), so the same run covers faces on
request end to end: the export's signatures, the evaluator's fidelity and `sample --attributes`.
Its networks are narrow (tiny_pipeline.NARROW): the evaluator asks the generator for thousands
of 128-px faces, and the seed's widths made that the longest set-up of the suite.
"""

import contextlib
import math
import os
import threading

import numpy as np
import psutil
import pytest
import tensorflow as tf
from PIL import Image
from tiny_pipeline import NARROW, metadata_store, produced_by, split_records, tiny_config

from dcgan_faces import cli
from pipeline import run_local
from reporting import report_html
from reporting.run_outputs import read_run_outputs
from trainer_module import networks, pixels

pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEAM_WORKER = "apache_beam.runners.worker.sdk_worker_main"
MULTI_PROCESSING = (
    "--runner=DirectRunner",
    "--direct_running_mode=multi_processing",
    "--direct_num_workers=2",
)


class BeamWorkers:
    """The Beam worker processes this process starts, seen by polling its children."""

    def __init__(self):
        self.pids = set()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        me = psutil.Process()
        while not self._done.wait(0.5):
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    if BEAM_WORKER in " ".join(child.cmdline()):
                        self.pids.add(child.pid)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._done.set()
        self._thread.join()


def example_gen_records(config, split) -> list:
    """CelebAExampleGen's examples of one split as protos, ordered by file name (the order of
    records across shards is the runner's)."""
    examples = produced_by(metadata_store(config), "Examples", "CelebAExampleGen")
    return sorted(
        (tf.train.Example.FromString(r) for r in split_records(examples.uri, split)),
        key=lambda e: e.features.feature["filename"].bytes_list.value[0],
    )


@pytest.fixture(scope="module")
def run_128(module_tmp):
    root = module_tmp("e2e128")
    config = tiny_config(
        root, image_size=128, beam_pipeline_args=MULTI_PROCESSING, conditional=True, **NARROW
    )
    run_local.prepare_data(config)
    # The workers import our modules to unpickle the DoFns: on PYTHONPATH, as in the image.
    with pytest.MonkeyPatch.context() as patch, BeamWorkers() as workers:
        patch.setenv(
            "PYTHONPATH", os.pathsep.join(filter(None, (REPO, os.environ.get("PYTHONPATH"))))
        )
        run_local.run(config)
    return config, read_run_outputs(config.metadata_path), workers.pids


def test_beam_ran_in_worker_processes_and_wrote_what_the_in_process_run_wrote(
    run_128, tiny_command_run
):
    """The same 64 built-in images, through ExampleGen in two worker processes here and in
    the launcher's own process in the shared tiny run: the same examples in each split."""
    config, _, beam_workers = run_128
    assert len(beam_workers) >= 2
    reference = tiny_config(tiny_command_run[0])
    for split in ("train", "eval", "test"):
        assert example_gen_records(config, split) == example_gen_records(reference, split) != []


def test_the_pushed_generator_draws_128_px_faces_on_request_from_the_deeper_network(run_128):
    config, outputs, _ = run_128
    assert outputs.pushed_model
    loaded = tf.saved_model.load(outputs.pushed_model)
    serve = loaded.signatures["serving_default"]
    attributes = len(config.attributes)
    assert serve.structured_input_signature[1]["attributes"].shape.as_list() == [None, attributes]
    images = serve(
        z=tf.random.stateless_normal([3, 100], [0, 0]), attributes=tf.ones([3, attributes])
    )["images"]
    assert images.dtype == tf.uint8 and images.shape == (3, 128, 128, 3)
    assert (
        sum(int(np.prod(w.shape)) for w in loaded.generator.variables)
        == networks.build_generator(
            z_dim=config.z_dim,
            variant=config.variant,
            image_size=128,
            attributes=attributes,
            filters=config.generator_filters,
        ).count_params()
    )
    # The attribute rows it carries are the train split's, as codes.
    table = loaded.attribute_table.numpy()
    assert table.shape[1] == attributes and set(np.unique(table)) == {-1.0, 1.0}


def test_the_evaluator_scores_128_px_images_against_128_px_references(run_128):
    _, outputs, _ = run_128
    for key in (
        "fid/random_embedding",
        "fid/random_embedding_untrained",
        "precision/random_embedding",
        "ms_ssim/generated",
        "attributes/fidelity_mean",
        "attributes/fidelity_to_accuracy",
        "attributes/fidelity_on/Smiling",
        "attributes/fidelity_off/Smiling",
    ):
        assert math.isfinite(outputs.metrics[key]), key
    with Image.open(outputs.sample_grid) as grid:  # 4 x 4 samples of 128 px
        assert grid.width >= 4 * 128


def test_the_cli_draws_a_grid_of_128_px_faces(run_128, tmp_path, capsys):
    _, outputs, _ = run_128
    out = tmp_path / "grid.png"
    assert cli.main(["sample", outputs.pushed_model, "--grid", str(out), "-n", "4"]) == 0
    with Image.open(out) as grid:
        assert grid.width >= 2 * 128 and grid.height >= 2 * 128


def test_the_cli_draws_faces_on_request_and_refuses_an_unknown_attribute(run_128, tmp_path, capsys):
    _, outputs, _ = run_128
    asked = ["sample", outputs.pushed_model, "-n", "4", "--attributes"]
    glasses, plain = tmp_path / "glasses", tmp_path / "plain"
    assert cli.main(asked + ["Eyeglasses=1,Smiling=1", "--out-dir", str(glasses)]) == 0
    assert cli.main(asked + ["Eyeglasses=0,Smiling=1", "--out-dir", str(plain)]) == 0
    assert "asked for Eyeglasses=1,Smiling=1" in capsys.readouterr().out
    faces = [sorted(folder.iterdir()) for folder in (glasses, plain)]
    assert len(faces[0]) == len(faces[1]) == 4

    def pixels_of(path):
        return np.asarray(Image.open(path))

    assert not np.array_equal(pixels_of(faces[0][0]), pixels_of(faces[1][0]))  # same z
    assert cli.main(asked + ["Eyeglases=1", "--grid", str(tmp_path / "x.png")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: unknown attribute 'Eyeglases'") and error.count("\n") == 1
    assert not (tmp_path / "x.png").exists()


def test_transform_stored_128_px_pngs(run_128):
    config, _, _ = run_128
    pattern = f"{config.pipeline_root}/Transform/transformed_examples/*/Split-train/*"
    records = tf.data.TFRecordDataset(tf.io.gfile.glob(pattern), compression_type="GZIP")
    first = tf.io.parse_single_example(
        next(iter(records)), {"image": tf.io.FixedLenFeature([], tf.string)}
    )
    assert pixels.decode_png(first["image"][None]).shape[1:] == (128, 128, 3)


def test_the_report_page_shows_faces_on_request_a_row_per_attribute(run_128, tmp_path):
    config, outputs, _ = run_128
    path = os.path.join(os.path.dirname(outputs.sample_grid), "request_grid.png")
    with Image.open(path) as grid:  # 8 faces of 128 px per row, 2 px apart
        assert (grid.width, grid.height) == (
            8 * 128 + 7 * 2,
            len(config.attributes) * (128 + 2) - 2,
        )
    page = report_html.write_report(
        config.metadata_path, config.output_root, out=str(tmp_path / "report.html")
    )
    html = open(page, encoding="utf-8").read()
    assert 'class="sample-grid request-grid"' in html
    assert "Faces on request: the ruler agrees with the asked-for attribute" in html
