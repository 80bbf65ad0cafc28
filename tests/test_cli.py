"""dcgan-faces on a tiny generator exported by the test: files, sizes, frames, and the one-line
errors for bad input."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import tf_keras
from PIL import Image
from test_networks import seed_generator

from dcgan_faces import cli, generator
from trainer_module import export
from trainer_module.batchnorm import refresh_batchnorm_statistics

Z_DIM = 8  # not the default 100: the commands must read it from the model
ROOT = Path(__file__).resolve().parent.parent
TRAINING_CONFIG = {"batch_size": 16, "train_steps": 3, "z_dim": Z_DIM, "variant": "seed"}


@pytest.fixture(scope="module")
def model_dir(module_tmp):
    """The project's generator network, untrained, exported as the Trainer exports it (BN
    statistics re-estimated, so the faces differ visibly from one z to another)."""
    tf_keras.utils.set_random_seed(0)
    network = seed_generator(z_dim=Z_DIM)
    refresh_batchnorm_statistics(network, Z_DIM, batches=2, batch_size=16)
    path = str(module_tmp("model") / "generator")
    export.export_generator(network, path, Z_DIM, training_config=TRAINING_CONFIG)
    return path


def run_cli(capsys, *argv):
    """(exit status, stdout, stderr) of dcgan-faces in this process."""
    status = cli.main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_sample_grid_holds_n_faces_in_a_square(model_dir, tmp_path, capsys):
    grid = tmp_path / "faces.png"
    status, out, _ = run_cli(capsys, "sample", model_dir, "--grid", grid, "-n", 9, "--seed", 3)
    assert status == 0 and str(grid) in out
    pixels = np.asarray(Image.open(grid))
    assert pixels.shape == (3 * 64 + 2 * 2, 3 * 64 + 2 * 2, 3)  # 3 x 3 tiles, 2-pixel gaps
    faces = (
        tf.saved_model.load(model_dir)
        .signatures["sample"](count=tf.constant(9), seed=tf.constant(3, tf.int64))["images"]
        .numpy()
    )
    np.testing.assert_array_equal(pixels[66:130, 132:196], faces[5])  # row 1, column 2


def test_the_same_seed_gives_the_same_grid_and_another_seed_another(model_dir, tmp_path, capsys):
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        assert (
            run_cli(
                capsys,
                "sample",
                model_dir,
                "--grid",
                tmp_path / f"{name}.png",
                "-n",
                4,
                "--seed",
                seed,
                "--columns",
                4,
            )[0]
            == 0
        )
    a, b, c = (np.asarray(Image.open(tmp_path / f"{name}.png")) for name in "abc")
    assert a.shape == (64, 4 * 64 + 3 * 2, 3)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_sample_out_dir_writes_one_64px_png_per_face(model_dir, tmp_path, capsys):
    out_dir = tmp_path / "faces"
    status, out, _ = run_cli(capsys, "sample", model_dir, "--out-dir", out_dir, "-n", 5)
    files = sorted(out_dir.iterdir())
    assert status == 0 and "5 faces" in out
    assert [f.name for f in files] == [f"face_0_{i:04d}.png" for i in range(5)]
    assert all(Image.open(f).size == (64, 64) and Image.open(f).mode == "RGB" for f in files)


@pytest.mark.parametrize("extra, frames", [((), 3 * 4 + 1), (("--loop",), 4 * 4)])
def test_interpolate_writes_a_gif_of_the_walk(model_dir, tmp_path, capsys, extra, frames):
    gif = tmp_path / "walk.gif"
    status, out, _ = run_cli(
        capsys,
        "interpolate",
        model_dir,
        "--out",
        gif,
        "--points",
        4,
        "--steps",
        4,
        "--scale",
        3,
        *extra,
    )
    assert status == 0 and f"{frames} frames" in out
    with Image.open(gif) as image:
        assert image.n_frames == frames and image.size == (192, 192)
        first = np.asarray(image.convert("RGB"), np.float32)
        image.seek(frames // 2)
        middle = np.asarray(image.convert("RGB"), np.float32)
    assert np.abs(first - middle).mean() > 1.0  # the faces change along the walk


def test_info_shows_signatures_and_training_config(model_dir, tmp_path, capsys):
    status, out, _ = run_cli(capsys, "info", model_dir, "--metadata", tmp_path / "none.sqlite")
    assert status == 0
    assert f"serving_default: z float32 [None, {Z_DIM}] -> images uint8 [None, 64, 64, 3]" in out
    assert "sample: count int32 [], seed int64 [] -> images uint8 [None, 64, 64, 3]" in out
    assert "train_steps: 3" in out and "batch_size: 16" in out
    assert f"Metrics: no metrics found (no pipeline metadata at {tmp_path / 'none.sqlite'})" in out


def test_a_pusher_destination_means_its_newest_version(model_dir, tmp_path, capsys):
    for version in ("999", "1000"):  # numerically, not alphabetically, newest
        shutil.copytree(model_dir, tmp_path / "pushed" / version)
    assert generator.find_export_dir(str(tmp_path / "pushed")) == str(tmp_path / "pushed" / "1000")
    os.makedirs(tmp_path / "trainer_model")
    shutil.copytree(model_dir, tmp_path / "trainer_model" / "Format-Serving")
    status, out, _ = run_cli(
        capsys, "info", tmp_path / "trainer_model", "--metadata", tmp_path / "none.sqlite"
    )
    assert status == 0 and f"Generator: {tmp_path / 'trainer_model' / 'Format-Serving'}" in out


@pytest.mark.fault("push cut short (no saved_model.pb)", "Pusher")
def test_a_push_killed_before_its_saved_model_pb_is_passed_over(model_dir, tmp_path, capsys):
    """Pusher copies saved_model.pb last: a newer version without it is not complete."""
    shutil.copytree(model_dir, tmp_path / "pushed" / "1000")
    shutil.copytree(
        model_dir, tmp_path / "pushed" / "2000", ignore=shutil.ignore_patterns("saved_model.pb")
    )
    assert generator.find_export_dir(str(tmp_path / "pushed")) == str(tmp_path / "pushed" / "1000")
    out = tmp_path / "grid.png"
    status, _, _ = run_cli(capsys, "sample", tmp_path / "pushed", "--grid", out, "-n", "4")
    assert status == 0 and out.stat().st_size > 0


def test_a_model_exported_without_a_config_says_so(tmp_path, capsys):
    export.export_generator(seed_generator(z_dim=Z_DIM), str(tmp_path / "bare"), Z_DIM)
    status, out, _ = run_cli(capsys, "info", tmp_path / "bare", "--metadata", tmp_path / "x")
    assert status == 0 and "Training config: none recorded in the model" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["sample", "{missing}", "--grid", "{tmp}/a.png"], "{missing}: no such directory"),
        (
            ["sample", "{tmp}", "--grid", "{tmp}/a.png"],
            "{tmp} is not a generator: no saved_model.pb",
        ),
        (["info", "{other}"], "{other} is a SavedModel but not a generator"),
        (["info", "{model}/saved_model.pb"], "saved_model.pb is a file"),
        (
            ["sample", "{model}", "--grid", "{tmp}/a.png", "-n", "0"],
            "argument -n/--count: 0 is out of range",
        ),
        (
            ["sample", "{model}", "--grid", "{tmp}/a.png", "-n", "many"],
            "'many' is not a whole number",
        ),
        (["sample", "{model}", "--grid", "{tmp}/a.jpg"], "--grid must name a .png file"),
        (["sample", "{model}"], "one of the arguments --grid --out-dir is required"),
        (
            ["sample", "{model}", "--grid", "{tmp}/a.png", "--attributes", "Smiling=1"],
            "is an unconditional generator: it cannot be asked for attributes",
        ),
        (["interpolate", "{model}", "--out", "{tmp}/a.mp4"], "--out must name a .gif file"),
        (
            ["interpolate", "{model}", "--out", "{tmp}/a.gif", "--points", "1"],
            "--points: 1 is out of range",
        ),
        (
            ["interpolate", "{model}", "--out", "{tmp}/a.gif", "--method", "cubic"],
            "invalid choice: 'cubic'",
        ),
        (
            ["report", "--metadata", "{tmp}/none.sqlite"],
            "no pipeline metadata at {tmp}/none.sqlite",
        ),
        (["paint", "{model}"], "invalid choice: 'paint'"),
        # Outputs that cannot be written where they are asked for: one line, never a traceback.
        (["sample", "{model}", "--grid", "{file}/a.png"], "{file} is not a directory"),
        (["sample", "{model}", "--out-dir", "{file}/faces"], "Not a directory: {file}/faces"),
        (
            ["sample", "{model}", "--out-dir", "{file}"],
            "--out-dir {file} is a file, not a directory",
        ),
        (["interpolate", "{model}", "--out", "{file}/a.gif"], "{file} is not a directory"),
        (["sample", "{model}", "--grid", "/proc/a.png"], "/proc/a.png"),  # no one may write there
        (["interpolate", "{model}", "--out", "/proc/a.gif"], "/proc/a.gif"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    model_dir, not_a_generator, tmp_path, capsys, argv, message
):
    (tmp_path / "a_file").write_text("in the way")
    names = {
        "missing": tmp_path / "nowhere",
        "tmp": tmp_path,
        "model": model_dir,
        "other": not_a_generator,
        "file": tmp_path / "a_file",
    }
    status, out, err = run_cli(capsys, *(arg.format(**names) for arg in argv))
    assert status == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert message.format(**names) in err


@pytest.mark.parametrize(
    "request_text, message",
    [
        ("Smiling=2", "Smiling=2: an attribute is 1 (present) or 0 (absent)"),
        ("Smiling=yes", "Smiling=yes: an attribute is 1 (present) or 0 (absent)"),
        ("Wings=1", "unknown attribute 'Wings'; this generator is conditioned on Smiling, Male"),
        ("smiling=1", "unknown attribute 'smiling'"),
        ("Smiling=1,Smiling=0", "Smiling is asked for twice"),
    ],
)
def test_a_bad_attribute_request_is_refused_naming_it(request_text, message):
    with pytest.raises(generator.GeneratorError, match=re.escape(message)):
        generator.parse_request(request_text, ("Smiling", "Male"))


def test_an_attribute_request_is_the_codes_in_the_models_order():
    assert generator.parse_request(" Male=0 , Smiling", ("Smiling", "Male", "Bangs")).tolist() == [
        1.0,
        -1.0,
        0.0,
    ]


def test_outputs_go_into_folders_made_for_them(model_dir, tmp_path, capsys):
    grid, faces = tmp_path / "new" / "deeper" / "a.png", tmp_path / "new" / "faces"
    assert run_cli(capsys, "sample", model_dir, "--grid", grid, "-n", "4")[0] == 0
    assert run_cli(capsys, "sample", model_dir, "--out-dir", faces, "-n", "2")[0] == 0
    assert Image.open(grid).size == (130, 130) and len(list(faces.iterdir())) == 2


def _quiet_env():
    """The user's environment: no TF log level set by the test session."""
    return {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}


def test_python_dash_m_runs_the_same_command(model_dir, tmp_path):
    grid = tmp_path / "m.png"
    done = subprocess.run(
        [sys.executable, "-m", "dcgan_faces", "sample", model_dir, "--grid", str(grid), "-n", "4"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_quiet_env(),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert Image.open(grid).size == (2 * 64 + 2, 2 * 64 + 2)


def test_the_installed_console_script_reports_bad_input(tmp_path):
    script = Path(sys.executable).parent / "dcgan-faces"
    assert script.exists(), f"{script} missing: install the project (make setup)"
    done = subprocess.run(
        [str(script), "info", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        env=_quiet_env(),
        timeout=300,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"error: {tmp_path / 'nowhere'}: no such directory\n"
