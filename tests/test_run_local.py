"""The local runner's command line: config overrides, the one-line failure, one run at a time."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import run_local
from pipeline_config import PipelineConfig


def test_overrides_reach_the_config():
    config = run_local.config_from_args(
        run_local.parse_args(
            ["--train-steps", "7", "--num-images", "90", "--output-root", "/tmp/x", "--no-cache"]
        )
    )
    assert (config.train_steps, config.synthetic_num_images) == (7, 90)
    assert config.pipeline_root.startswith("/tmp/x") and not config.enable_cache
    assert PipelineConfig().enable_cache  # the default is untouched


def test_a_user_folder_is_never_generated_into(tmp_path):
    config = run_local.config_from_args(run_local.parse_args(["--data-root", str(tmp_path)]))
    assert config.data_root == str(tmp_path) and config.synthetic_num_images == 0


@pytest.mark.parametrize(
    "argv, says",
    [
        (["--train-steps", "0"], "argument --train-steps: 0 is not above 0"),
        (["--train-steps", "-5"], "argument --train-steps: -5 is not above 0"),
        (["--train-steps", "1e3"], "argument --train-steps: '1e3' is not a whole number"),
        (["--num-images", "0"], "argument --num-images: 0 is not above 0"),
        (["--data-root", "/x", "--num-images", "90"], "--num-images sizes the built-in set"),
        (["--steps", "5"], "unrecognized arguments: --steps 5"),
    ],
)
def test_a_bad_argument_is_refused_in_one_line_before_anything_runs(argv, says, capsys):
    with pytest.raises(SystemExit) as stopped:
        run_local.parse_args(argv)
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and len(err.splitlines()) == 1
    assert err.startswith("run_local.py: error: " + says), err


def test_failure_exits_non_zero_with_one_line(tmp_path, capsys):
    missing = tmp_path / "no-such-folder"
    assert run_local.main(["--data-root", str(missing), "--output-root", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: pipeline failed:") and str(missing) in err[0]


def hold_the_run_lock(output_root):
    """Another process in the middle of a run: it holds the lock until killed."""
    code = (
        "import sys, time; from pipeline import run_lock; "
        "from pipeline_config import PipelineConfig\n"
        f"with run_lock.exclusive_run(PipelineConfig(output_root={str(output_root)!r})"
        ".metadata_path):\n    print('holding', flush=True); time.sleep(600)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        cwd=str(Path(__file__).resolve().parent.parent),
    )
    assert holder.stdout.readline().strip() == "holding"
    return holder


@pytest.mark.fault("a second run on the same output root", "whole run")
def test_a_second_run_on_the_same_outputs_refuses_with_one_line_until_the_first_dies(
    tmp_path, capsys
):
    missing = tmp_path / "no-such-folder"  # past the lock, the run fails at once on it
    argv = ["--data-root", str(missing), "--output-root", str(tmp_path / "out")]
    holder = hold_the_run_lock(tmp_path / "out")
    try:
        assert run_local.main(argv) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"error: another run (process {holder.pid})")
        assert "another --output-root" in err[0]
        # Another output root is not held up.
        assert (
            run_local.main(["--data-root", str(missing), "--output-root", str(tmp_path / "other")])
            == 1
        )
        assert "pipeline failed" in capsys.readouterr().err
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=60)
    assert run_local.main(argv) == 1  # kill -9 left no stale lock: the run gets past it
    assert capsys.readouterr().err.startswith("error: pipeline failed:")


def test_a_full_disk_is_one_line_naming_the_path_and_the_way_on(tmp_path):
    config = PipelineConfig(output_root=str(tmp_path))
    beam_text = RuntimeError("OSError: [Errno 28] No space left on device [while running 'Write']")
    line = run_local.failure_line(beam_text, config)
    assert line.startswith(
        f"disk full: no space left on the device writing {tmp_path}; free "
        "space there and run the same command again"
    )
    assert "\n" not in line
    assert (
        run_local.failure_line(ValueError("bad\nthing"), config)
        == "pipeline failed: ValueError: bad"
    )


def test_the_runner_starts_from_a_fresh_clones_top_level(tmp_path):
    """`python pipeline/run_local.py --help`, the first command a newcomer types, from the top
    level of a fresh clone: it answers with its options from the clone's own files (Python puts
    pipeline/ first on sys.path, where pipeline.py would shadow the `pipeline` package), and a
    bad argument is refused in one line before anything runs."""
    from fresh_clone import fresh_clone

    clone = fresh_clone(tmp_path / "clone")
    helped = subprocess.run(
        [sys.executable, "-v", "pipeline/run_local.py", "--help"],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert helped.returncode == 0, helped.stderr[-2000:]
    assert helped.stdout.startswith("usage: run_local.py") and "--data-root" in helped.stdout
    assert f"{clone}/pipeline/console.py" in helped.stderr  # python -v: the clone's module read
    assert f"{Path(__file__).resolve().parent.parent}/pipeline/" not in helped.stderr
    refused = subprocess.run(
        [sys.executable, "pipeline/run_local.py", "--no-such-option"],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2 and refused.stderr.splitlines() == [
        "run_local.py: error: unrecognized arguments: --no-such-option (--help lists the options)"
    ]
    assert not (clone / "outputs").exists() and not (clone / "data" / "generated").exists()
