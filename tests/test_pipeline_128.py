"""image_size=128 end to end: Transform, Trainer, evaluator, export, Pusher and the CLI, with
Beam's DirectRunner in multi_processing mode (2 worker processes), as a Kubeflow pod without
Dataflow runs it: every DoFn pickled to another process, nothing shared with the launcher."""
import contextlib
import math
import os
import threading

import numpy as np
import psutil
import pytest
import tensorflow as tf
from PIL import Image

from dcgan_faces import cli
from pipeline import run_local
from reporting.run_outputs import read_run_outputs
from tiny_pipeline import metadata_store, produced_by, split_records, tiny_config
from trainer_module import networks, pixels

pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEAM_WORKER = "apache_beam.runners.worker.sdk_worker_main"
MULTI_PROCESSING = ("--runner=DirectRunner", "--direct_running_mode=multi_processing",
                    "--direct_num_workers=2")


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
    return sorted((tf.train.Example.FromString(r) for r in split_records(examples.uri, split)),
                  key=lambda e: e.features.feature["filename"].bytes_list.value[0])


@pytest.fixture(scope="module")
def run_128(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e128")
    config = tiny_config(root, image_size=128, beam_pipeline_args=MULTI_PROCESSING)
    run_local.prepare_data(config)
    # The workers import our modules to unpickle the DoFns: on PYTHONPATH, as in the image.
    with pytest.MonkeyPatch.context() as patch, BeamWorkers() as workers:
        patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, (REPO, os.environ.get("PYTHONPATH")))))
        run_local.run(config)
    return config, read_run_outputs(config.metadata_path), workers.pids


def test_beam_ran_in_worker_processes_and_wrote_what_the_in_process_run_wrote(run_128,
                                                                            tiny_command_run):
    """The same 64 built-in images, through ExampleGen in two worker processes here and in
    the launcher's own process in the shared tiny run: the same examples in each split."""
    config, _, beam_workers = run_128
    assert len(beam_workers) >= 2
    reference = tiny_config(tiny_command_run[0])
    for split in ("train", "eval", "test"):
        assert example_gen_records(config, split) == example_gen_records(reference, split) != []


def test_the_pushed_generator_draws_128_px_faces_from_the_deeper_network(run_128):
    _, outputs, _ = run_128
    assert outputs.pushed_model
    serve = tf.saved_model.load(outputs.pushed_model).signatures["serving_default"]
    images = serve(z=tf.random.normal([3, 100]))["images"]
    assert images.dtype == tf.uint8 and images.shape == (3, 128, 128, 3)
    weights = tf.saved_model.load(outputs.pushed_model).generator.variables
    assert sum(int(np.prod(w.shape)) for w in weights) == \
        networks.build_generator(100, image_size=128).count_params()


def test_the_evaluator_scores_128_px_images_against_128_px_references(run_128):
    _, outputs, _ = run_128
    for key in ("fid/random_embedding", "fid/random_embedding_untrained",
                "precision/random_embedding", "ms_ssim/generated"):
        assert math.isfinite(outputs.metrics[key]), key
    with Image.open(outputs.sample_grid) as grid:  # 4 x 4 samples of 128 px
        assert grid.width >= 4 * 128


def test_the_cli_draws_a_grid_of_128_px_faces(run_128, tmp_path, capsys):
    _, outputs, _ = run_128
    out = tmp_path / "grid.png"
    assert cli.main(["sample", outputs.pushed_model, "--grid", str(out), "-n", "4"]) == 0
    with Image.open(out) as grid:
        assert grid.width >= 2 * 128 and grid.height >= 2 * 128


def test_transform_stored_128_px_pngs(run_128):
    config, _, _ = run_128
    pattern = f"{config.pipeline_root}/Transform/transformed_examples/*/Split-train/*"
    records = tf.data.TFRecordDataset(tf.io.gfile.glob(pattern), compression_type="GZIP")
    first = tf.io.parse_single_example(next(iter(records)),
                                       {"image": tf.io.FixedLenFeature([], tf.string)})
    assert pixels.decode_png(first["image"][None]).shape[1:] == (128, 128, 3)
