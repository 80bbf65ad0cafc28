"""kill -9 inside every component of the tiny pipeline, one after the other, each followed by
the same command again: the last run completes, and what it pushed, measured and reported
equals an uninterrupted run's. No partial artifact is read downstream (TFX publishes an
execution's outputs only when it succeeds; a rerun starts that component afresh)."""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dcgan_faces import generator
from reporting.run_outputs import read_run_outputs
from tiny_pipeline import tiny_config

pytestmark = pytest.mark.slow

WORKER = Path(__file__).with_name("pipeline_worker.py")
# Where the kills land, in the order the pipeline runs them.
KILLED_IN = ("CelebAExampleGen", "Transform", "Trainer", "GanEvaluator", "Pusher")


def run_to_end(root) -> str:
    done = subprocess.run([sys.executable, str(WORKER), str(root)], capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0 and "Run report:" in done.stdout, done.stderr[-3000:]
    return done.stdout


def kill_inside(root, component: str, rng: random.Random) -> bool:
    """Starts the run, kill -9s it a random moment (0-0.5 s) after `component` starts; True
    when the process was still running at the kill."""
    worker = subprocess.Popen([sys.executable, str(WORKER), str(root)], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    for line in worker.stdout:
        if line.strip() == f"{component} ...":
            time.sleep(rng.uniform(0.0, 0.5))
            break
    alive = worker.poll() is None
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=60)
    return alive and worker.returncode == -signal.SIGKILL


def ingestion_report(outputs) -> dict:
    path = outputs.ingestion_summary.splitlines()[-1].split("Report: ")[1]
    with open(path) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    uninterrupted = tmp_path_factory.mktemp("uninterrupted")
    run_to_end(uninterrupted)
    killed = tmp_path_factory.mktemp("killed")
    rng = random.Random(0)
    kills = {component: kill_inside(killed, component, rng) for component in KILLED_IN}
    last = run_to_end(killed)
    return {name: (tiny_config(root), read_run_outputs(tiny_config(root).metadata_path))
            for name, root in (("uninterrupted", uninterrupted), ("killed", killed))}, kills, last


def test_every_kill_landed_inside_a_running_pipeline(runs):
    _, kills, _ = runs
    assert kills == {component: True for component in KILLED_IN}


def test_the_run_after_the_kills_completes_and_pushes_one_complete_model(runs):
    outputs, _, last = runs
    config, killed = outputs["killed"]
    assert killed.pushed_model and os.path.isfile(os.path.join(killed.pushed_model,
                                                               "saved_model.pb"))
    assert "FAILED" not in killed.executions, killed.executions
    # A Pusher killed after its copy but before TFX published the execution pushes again on
    # the rerun, under a new version: the same model twice is harmless. What must not happen is
    # a half-written version taken for the newest (dcgan_faces and TF Serving skip a version
    # without saved_model.pb, which Pusher writes last).
    serving = config.serving_model_dir
    versions = sorted((name for name in os.listdir(serving) if name.isdigit()), key=int)
    complete = [v for v in versions if os.path.isfile(os.path.join(serving, v, "saved_model.pb"))]
    assert complete[-1] == os.path.basename(killed.pushed_model)
    assert generator.find_export_dir(serving) == killed.pushed_model
    pushed = Path(killed.pushed_model, "saved_model.pb").read_bytes()
    assert all(Path(serving, v, "saved_model.pb").read_bytes() == pushed for v in complete)


def test_metrics_and_ingestion_equal_an_uninterrupted_run(runs):
    outputs, _, _ = runs
    (_, reference), (_, killed) = outputs["uninterrupted"], outputs["killed"]
    killed_report, reference_report = map(ingestion_report, (killed, reference))
    for key in ("files_seen", "examples", "examples_per_split", "rejected", "rejected_files"):
        assert killed_report[key] == reference_report[key], key  # no file lost or counted twice
    for key, value in reference.metrics.items():
        if isinstance(value, float):
            assert killed.metrics[key] == pytest.approx(value, rel=1e-3, abs=1e-6), key
        elif key not in ("statistics_cache_hits",):
            assert killed.metrics[key] == value, key
