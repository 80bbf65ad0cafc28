"""The face studio (`dcgan-faces serve`, dcgan_faces/studio.py) on tiny generators
exported by the test, with an output root laid out as the pipeline lays it (two pushed versions,
the Trainer's model, an evaluation with attribute directions and measures, the metadata that
links them):

- in Debian's Chromium (driven by Playwright, as the report test does): the grid is `sample`'s,
  a slider move changes the face to exactly what `dcgan-faces sample` draws for the same z and
  strength (and from the downloaded face file), the interpolation strip has the frames asked
  for, and bad input is shown on the page;
- over HTTP: every bad input is a 4xx with a clear message, never a 500; the server listens on
  loopback only by default;
- a conditional generator's sliders are its codes.
"""

import base64
import collections
import io
import json
import os
import random
import re
import select
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import chromium
import numpy as np
import psutil
import pytest
import tf_keras
from ml_metadata.proto import metadata_store_pb2
from PIL import Image
from test_networks import seed_generator

from dcgan_faces import cli, directions, generator, studio
from trainer_module import export
from trainer_module.batchnorm import refresh_batchnorm_statistics

ROOT = Path(__file__).resolve().parent.parent
Z_DIM = 8  # not the default 100: the studio must read it from the model
FILTERS = 64  # a small G: the fixture exports in seconds
PIPELINE = "celeba-dcgan"
NAMES = ("Smiling", "Male", "Eyeglasses")  # Eyeglasses: too rare for a direction (NaN row)
# The evaluator's measures of each direction's edit: flips, others changed, worst other.
MEASURES = {"Smiling": (0.9, 0.05, 0.2), "Male": (0.6, 0.3, 0.5)}
# The evaluator's output files (components/gan_evaluator/results.py), written as it writes them.
DIRECTIONS_FILE, METRICS_FILE = "attribute_directions.npz", "metrics.json"
Event = metadata_store_pb2.Event
SERVE_START_SECONDS = 300  # loading TensorFlow on a busy 2-core machine; a hang fails, not waits


def tiny_generator(path: str, attributes=(), table=None) -> None:
    """The project's generator, small and untrained, exported as the Trainer exports it (BN
    statistics re-estimated, so faces differ visibly from one z to another)."""
    tf_keras.utils.set_random_seed(0)
    network = seed_generator(z_dim=Z_DIM, attributes=len(attributes), filters=FILTERS)
    refresh_batchnorm_statistics(network, Z_DIM, batches=2, batch_size=16, attribute_table=table)
    config = {
        "z_dim": Z_DIM,
        "train_steps": 3,
        "generator_filters": FILTERS,
        "conditional": bool(attributes),
        "attributes": list(attributes),
    }
    export.export_generator(network, path, Z_DIM, training_config=config, attribute_table=table)


def record_evaluation(metadata_path: str, model_uri: str, evaluation_uri: str) -> None:
    """The metadata of one GanEvaluator execution that read the Trainer's model and wrote the
    evaluation, as TFX records it: the studio finds the evaluation from the pushed copy's
    SavedModel fingerprint, through these events."""
    import ml_metadata as mlmd
    from tfx.orchestration import metadata

    store = mlmd.MetadataStore(metadata.sqlite_metadata_connection_config(metadata_path))
    model_type = store.put_artifact_type(metadata_store_pb2.ArtifactType(name="Model"))
    evaluation_type = store.put_artifact_type(
        metadata_store_pb2.ArtifactType(name="ModelEvaluation")
    )
    evaluator = store.put_execution_type(
        metadata_store_pb2.ExecutionType(name="components.gan_evaluator.component.GanEvaluator")
    )
    model_id, evaluation_id = store.put_artifacts(
        [
            metadata_store_pb2.Artifact(type_id=model_type, uri=model_uri),
            metadata_store_pb2.Artifact(type_id=evaluation_type, uri=evaluation_uri),
        ]
    )
    (execution_id,) = store.put_executions([metadata_store_pb2.Execution(type_id=evaluator)])

    def event(artifact_id, kind, key):
        return Event(
            artifact_id=artifact_id,
            execution_id=execution_id,
            type=kind,
            path=Event.Path(steps=[Event.Path.Step(key=key)]),
        )

    store.put_events(
        [event(model_id, Event.INPUT, "model"), event(evaluation_id, Event.OUTPUT, "evaluation")]
    )


@pytest.fixture(scope="module")
def output_root(module_tmp):
    """(root, {attribute: direction}): the pipeline's outputs for one tiny unconditional model,
    pushed twice (versions 100 and 200), evaluated with directions for Smiling and Male."""
    root = module_tmp("outputs")
    pipeline_root = root / "pipeline" / PIPELINE
    model_uri = pipeline_root / "Trainer" / "model" / "5"
    tiny_generator(str(model_uri / "Format-Serving"))
    for version in ("100", "200"):
        shutil.copytree(model_uri / "Format-Serving", root / "serving_model" / PIPELINE / version)
    evaluation = pipeline_root / "GanEvaluator" / "evaluation" / "7"
    evaluation.mkdir(parents=True)
    rng = np.random.default_rng(0)
    found = rng.standard_normal((len(NAMES), Z_DIM))
    found /= np.linalg.norm(found, axis=1, keepdims=True)
    found[NAMES.index("Eyeglasses")] = np.nan
    np.savez(
        evaluation / DIRECTIONS_FILE,
        names=np.array(NAMES),
        directions=found,
        z=rng.standard_normal((20, Z_DIM)).astype(np.float32),
        decisions=rng.integers(0, 2, (20, len(NAMES))).astype(np.int8),
    )
    metrics = {
        f"attributes/{key}/{name}": value
        for name, values in MEASURES.items()
        for key, value in zip(
            ("edit_flip_rate", "edit_others_changed", "edit_worst_other_changed"), values
        )
    }
    (evaluation / METRICS_FILE).write_text(json.dumps(metrics))
    record_evaluation(
        str(root / "metadata" / PIPELINE / "metadata.sqlite"), str(model_uri), str(evaluation)
    )
    return root, {name: found[k] for k, name in enumerate(NAMES) if name != "Eyeglasses"}


@pytest.fixture(scope="module")
def newest(output_root):
    root, _ = output_root
    return str(root / "serving_model" / PIPELINE / "200")


@pytest.fixture(scope="module")
def model(newest):
    return generator.load(newest)


@pytest.fixture(scope="module")
def server(output_root, module_tmp):
    """(first line, process): `dcgan-faces serve` with no MODEL, on a free port, as a user
    starts it."""
    root, _ = output_root
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    log = module_tmp("serve") / "stderr.txt"
    with open(log, "w") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dcgan_faces",
                "serve",
                "--output-root",
                str(root),
                "--port",
                "0",
            ],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=ROOT,
            env=env,
        )
    ready, _, _ = select.select([process.stdout], [], [], SERVE_START_SECONDS)
    line = process.stdout.readline() if ready else ""  # its first line: it listens
    if not line:
        process.kill()
        pytest.fail(
            f"serve printed nothing in {SERVE_START_SECONDS} s (exit "
            f"{process.wait()}): {log.read_text()[-2000:]}"
        )
    yield line, process
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def url(server):
    line, _ = server
    (found,) = re.findall(r" at (http://\S+/) ", line)
    return found


@pytest.fixture(scope="module")
def browser():
    with chromium.playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium.CHROMIUM, headless=True, args=chromium.CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser, url):
    """(page, errors): the studio open in a fresh context, with every console error, page error
    and failed request."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    opened = context.new_page()
    errors = chromium.errors_of(opened)
    opened.goto(url, wait_until="load")
    opened.wait_for_selector("body[data-ready=yes]", timeout=60_000)
    yield opened, errors
    context.close()


def decode(png_bytes: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png_bytes)).convert("RGB"))


def data_url_pixels(src: str) -> np.ndarray:
    return decode(base64.b64decode(src.split(",", 1)[1]))


def shown_face(page) -> np.ndarray:
    """The chosen face's pixels as the page holds them (the PNG behind the img, fetched in the
    page): exact, unlike a screenshot of the scaled-up image."""
    encoded = page.evaluate("""async () => {
        const response = await fetch(document.getElementById("face").src);
        const bytes = new Uint8Array(await response.arrayBuffer());
        let text = ""; for (const b of bytes) text += String.fromCharCode(b);
        return btoa(text); }""")
    return decode(base64.b64decode(encoded))


def get(url: str) -> tuple:
    """(status, JSON or bytes) of a GET to the studio."""
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            status, body, kind = (
                response.status,
                response.read(),
                response.headers.get_content_type(),
            )
    except urllib.error.HTTPError as err:
        status, body, kind = err.code, err.read(), err.headers.get_content_type()
    return status, json.loads(body) if kind == "application/json" else body


def run_cli(capsys, *argv) -> tuple:
    status = cli.main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err


# --- the faces the studio draws are the command line's -----------------------------------------


def test_sample_inputs_are_the_inputs_of_samples_faces(model):
    inputs = model.sample_inputs(9, 3)
    np.testing.assert_array_equal(model.images(inputs), model.sample(9, 3))
    np.testing.assert_array_equal(model.sample_inputs(4, 3), inputs[:4])  # face i: any count
    assert not np.array_equal(model.sample_inputs(4, 4), inputs[:4])


def test_edit_moves_faces_by_the_studios_rule(output_root, newest, model, tmp_path, capsys):
    """`edit` and the studio move z by one function (directions.steer): the edit grid's cells
    are the faces steered by each strength."""
    root, found = output_root
    grid = tmp_path / "edit.png"
    status, out, err = run_cli(
        capsys,
        "edit",
        newest,
        "--add",
        "Smiling",
        "--grid",
        grid,
        "--rows",
        2,
        "--columns",
        3,
        "--metadata",
        root / "metadata" / PIPELINE / "metadata.sqlite",
    )
    assert status == 0, err
    cells = np.asarray(Image.open(grid))
    faces = model.inputs(2, 0)
    for row in range(2):
        for column, strength in enumerate((0.0, 1.5, 3.0)):
            expected = model.images(
                directions.steer(faces[row : row + 1], [(found["Smiling"], strength)])
            )[0]
            np.testing.assert_array_equal(
                cells[row * 66 : row * 66 + 64, column * 66 : column * 66 + 64], expected
            )


# --- in the browser -----------------------------------------------------------------------------


def test_serve_starts_on_loopback_with_the_newest_pushed_model(server, url, newest):
    line, process = server
    assert url.startswith("http://127.0.0.1:")
    assert f"Face studio for {newest} (2 sliders) at " in line
    listening = [
        connection.laddr
        for connection in psutil.Process(process.pid).net_connections()
        if connection.status == psutil.CONN_LISTEN
    ]
    assert listening and all(address.ip == "127.0.0.1" for address in listening)


def test_the_grid_is_samples_grid_for_the_seed(page, newest, tmp_path, capsys):
    opened, errors = page
    tiles = opened.locator("#grid .tile img")
    assert tiles.count() == 16
    grid = tmp_path / "sample.png"
    assert run_cli(capsys, "sample", newest, "--grid", grid, "-n", 16, "--seed", 0)[0] == 0
    cells = np.asarray(Image.open(grid))
    for index in (0, 5, 15):
        row, column = divmod(index, 4)
        np.testing.assert_array_equal(
            data_url_pixels(tiles.nth(index).get_attribute("src")),
            cells[row * 66 : row * 66 + 64, column * 66 : column * 66 + 64],
        )
    assert errors == []


def test_a_slider_move_shows_the_face_sample_draws_for_that_z_and_strength(
    page, output_root, newest, model, tmp_path, capsys
):
    opened, errors = page
    _, found = output_root
    opened.locator("#grid .tile").nth(5).click()
    opened.wait_for_selector("#face[data-face='0/5'][data-edits='']")
    before = shown_face(opened)
    np.testing.assert_array_equal(before, model.sample(6, 0)[5])

    slider = opened.locator("#slider-Smiling")
    slider.focus()
    for _ in range(15):  # the keyboard's steps of 0.1, as a user nudges a slider
        opened.keyboard.press("ArrowRight")
    opened.wait_for_selector("#face[data-edits='Smiling=1.5']")
    after = shown_face(opened)
    assert not np.array_equal(after, before)
    z = directions.steer(model.sample_inputs(6, 0)[5], [(found["Smiling"], 1.5)])
    np.testing.assert_array_equal(after, model.images(z[None])[0])

    with opened.expect_download() as download:
        opened.locator("#download-recipe").click()
    face_file = tmp_path / download.value.suggested_filename
    download.value.save_as(face_file)
    assert face_file.name == "face_0_5.json"
    written = json.loads(face_file.read_text())
    assert written["edits"] == {"Smiling": 1.5} and written["seed"] == 0
    assert written["command"] in opened.inner_text("#command")
    drawn = tmp_path / "again.png"
    status, out, err = run_cli(capsys, "sample", newest, "--z", face_file, "--grid", drawn)
    assert status == 0, err
    np.testing.assert_array_equal(np.asarray(Image.open(drawn)), after)

    with opened.expect_download() as download:
        opened.locator("#download-face").click()
    assert download.value.suggested_filename == "face_0_5.png"
    np.testing.assert_array_equal(decode(Path(download.value.path()).read_bytes()), after)
    assert errors == []


def test_each_slider_says_what_the_evaluator_measured_of_it(page):
    opened, _ = page
    rows = opened.locator("#sliders .slider")
    assert rows.count() == 2  # Eyeglasses has no direction
    smiling, male = rows.nth(0).inner_text(), rows.nth(1).inner_text()  # the reliable first
    assert "Smiling" in smiling and "reliable" in smiling
    assert "flips 90% of faces · others change 5% (worst 20%)" in smiling
    assert "Male" in male and "side effects" in male and "flips 60% of faces" in male
    assert "no direction for Eyeglasses" in opened.inner_text("#note")


def test_the_interpolation_strip_has_the_frames_asked_for(page, model):
    opened, errors = page
    opened.locator("#grid .tile").nth(2).click()
    opened.wait_for_selector("#face[data-face='0/2']")
    opened.select_option("#to", "7")
    opened.fill("#frames", "5")
    opened.click("#interpolate")
    frames = opened.locator("#strip img.frame")
    frames.nth(4).wait_for()
    assert frames.count() == 5
    ends = model.sample(8, 0)
    np.testing.assert_array_equal(data_url_pixels(frames.nth(0).get_attribute("src")), ends[2])
    np.testing.assert_array_equal(data_url_pixels(frames.nth(4).get_attribute("src")), ends[7])
    middle = data_url_pixels(frames.nth(2).get_attribute("src"))
    assert not np.array_equal(middle, ends[2]) and not np.array_equal(middle, ends[7])
    assert errors == []


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("#seed", "99999999999999999999999", "is out of range: 0 to 9223372036854775807"),
        ("#seed", "seven", "seed must be a whole number"),
        ("#count", "1000", "count '1000' is out of range: 1 to 64"),
    ],
)
def test_bad_grid_input_is_shown_on_the_page(page, field, value, message):
    opened, _ = page
    opened.fill(field, value)
    opened.click("#show")
    alert = opened.locator("#message")
    alert.wait_for(state="visible")
    assert message in alert.inner_text()
    assert opened.locator("#grid .tile").count() == 16  # the faces shown stay


def test_too_many_frames_are_refused_on_the_page(page):
    opened, _ = page
    opened.fill("#frames", "500")
    opened.click("#interpolate")
    opened.locator("#message").wait_for(state="visible")
    assert "frames '500' is out of range: 2 to 32" in opened.inner_text("#message")


# --- over HTTP ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, status, message",
    [
        (
            "face?seed=0&index=0&edits=Smiling=9",
            400,
            "Smiling=9 is out of range: Smiling goes from -5 to 5",
        ),
        ("face?seed=0&index=0&edits=Smiling=-inf", 400, "Smiling needs a number"),
        (
            "face?seed=0&index=0&edits=Wings=1",
            400,
            "unknown attribute 'Wings'; this model's sliders: Smiling, Male",
        ),
        ("face?seed=0&index=0&edits=Eyeglasses=1", 400, "unknown attribute 'Eyeglasses'"),
        ("face?seed=0&index=0&edits=Smiling=1,Smiling=2", 400, "Smiling is given twice"),
        ("face?seed=" + "9" * 5000 + "&index=0", 400, "is out of range: 0 to 9223372036854775807"),
        ("face?seed=9223372036854775808&index=0", 400, "out of range"),
        ("face?seed=-1&index=0", 400, "seed must be a whole number from 0 to"),
        ("face?seed=0", 400, "index is missing"),
        ("face?seed=0&index=64", 400, "index '64' is out of range: 0 to 63"),
        ("grid?seed=0&count=100000000", 400, "count '100000000' is out of range: 1 to 64"),
        (
            "strip?seed=0&index=0&to=1&frames=100000",
            400,
            "frames '100000' is out of range: 2 to 32",
        ),
        ("strip?seed=0&index=0&to=1&method=cubic", 400, "method must be one of slerp, linear"),
        ("recipe?seed=0&index=0&edits=Smiling", 400, "Smiling needs a number"),
        ("nowhere", 404, "not found"),
    ],
)
def test_bad_requests_are_answered_4xx_with_a_clear_message(url, query, status, message):
    got, body = get(url + "api/" + query)
    assert got == status and message in body["error"]


def test_the_largest_requests_are_answered(url):
    status, body = get(url + f"api/grid?seed={2**63 - 1}&count=64")
    assert status == 200 and len(body["faces"]) == 64
    status, body = get(url + "api/strip?seed=1&index=63&to=0&frames=32&edits=Smiling=-5,Male=5")
    assert status == 200 and len(body["frames"]) == 32


# --- the command's own refusals -----------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (["serve", "{other}"], "{other} is a SavedModel but not a generator"),
        (["serve", "{tmp}/nowhere"], "{tmp}/nowhere: no such directory"),
        (
            ["serve", "--output-root", "{tmp}"],
            "no pushed model at {tmp}/serving_model/celeba-dcgan: run the pipeline",
        ),
        (["serve", "{model}", "--port", "70000"], "--port: 70000 is out of range"),
        (
            [
                "serve",
                "{model}",
                "--host",
                "192.0.2.1",
                "--port",
                "0",
            ],  # an address not this machine's
            "cannot listen on 192.0.2.1:0: Cannot assign requested address",
        ),
        (
            ["sample", "{model}", "--z", "{tmp}/none.json", "--grid", "{tmp}/a.png"],
            "--z {tmp}/none.json: no such file",
        ),
        (
            ["sample", "{model}", "--z", "{tmp}/short.json", "--grid", "{tmp}/a.png"],
            "holds a z of 3 numbers; {model} takes 8",
        ),
        (
            [
                "sample",
                "{model}",
                "--z",
                "{tmp}/short.json",
                "--grid",
                "{tmp}/a.png",
                "--seed",
                "1",
            ],
            "--z gives the face itself: it takes no -n, --seed or --attributes",
        ),
        (["sample", "{model}", "--grid", "{tmp}/a.png", "--seed", str(2**63)], "is out of range"),
    ],
)
def test_bad_input_to_the_commands_is_one_line(
    newest, not_a_generator, tmp_path, capsys, argv, message
):
    (tmp_path / "short.json").write_text('{"z": [0.5, 1, 2]}')
    names = {"tmp": tmp_path, "model": newest, "other": not_a_generator}
    status, out, err = run_cli(capsys, *(arg.format(**names) for arg in argv))
    assert status == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert message.format(**names) in err


def test_a_port_in_use_is_one_line(newest, url, capsys):
    port = url.rstrip("/").rsplit(":", 1)[1]
    status, out, err = run_cli(capsys, "serve", newest, "--port", port)
    assert status == 2 and len(err.splitlines()) == 1
    assert f"error: cannot listen on 127.0.0.1:{port}: Address already in use" in err


# --- a conditional generator --------------------------------------------------------------------


@pytest.fixture(scope="module")
def conditional(module_tmp):
    """A tiny conditional generator, a studio on it with the evaluator's code-edit measures, and
    its web app's test client (the real app, without a server)."""
    names = ("Smiling", "Male")
    table = np.array([[1, -1], [-1, 1], [1, 1], [-1, -1]], np.float32)
    path = str(module_tmp("conditional") / "generator")
    tiny_generator(path, names, table)
    model = generator.load(path)
    metrics = {
        "attributes/code_edit_flip_rate/Smiling": 0.95,
        "attributes/code_edit_others_changed/Smiling": 0.02,
        "attributes/code_edit_worst_other_changed/Smiling": 0.04,
    }
    opened = studio.Studio(model, {}, metrics, evaluation=None)
    return model, opened, studio.create_app(opened).test_client()


def test_a_conditional_generators_sliders_are_its_codes(conditional, tmp_path, capsys):
    model, opened, client = conditional
    described = client.get("/api/model").get_json()
    assert described["slider_kind"] == "code"
    assert [(s["name"], s["low"], s["high"], s["verdict"]) for s in described["sliders"]] == [
        ("Smiling", -1.0, 1.0, "reliable"),
        ("Male", -1.0, 1.0, "not measured"),
    ]
    grid = client.get("/api/grid?seed=4&count=3").get_json()
    own = model.sample_inputs(3, 4)[1, Z_DIM:]
    assert grid["faces"][1]["codes"] == dict(zip(("Smiling", "Male"), own.tolist()))
    np.testing.assert_array_equal(data_url_pixels(grid["faces"][1]["image"]), model.sample(3, 4)[1])

    flipped = -own[0]
    query = f"seed=4&index=1&edits=Smiling={flipped:g}"
    face = decode(client.get(f"/api/face?{query}").data)
    assert not np.array_equal(face, model.sample(3, 4)[1])
    recipe = client.get(f"/api/recipe?{query}")
    assert recipe.headers["Content-Disposition"] == "attachment; filename=face_4_1.json"
    assert recipe.get_json()["attributes"] == {"Smiling": float(flipped), "Male": float(own[1])}
    (tmp_path / "face.json").write_bytes(recipe.data)
    assert (
        run_cli(
            capsys,
            "sample",
            model.path,
            "--z",
            tmp_path / "face.json",
            "--grid",
            tmp_path / "face.png",
        )[0]
        == 0
    )
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "face.png")), face)

    refused = client.get("/api/face?seed=4&index=1&edits=Smiling=1.5")
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "Smiling=1.5 is out of range: Smiling goes from -1 to 1"


def test_a_model_without_an_evaluation_gets_faces_and_a_note_instead_of_sliders(newest, tmp_path):
    opened = studio.Studio.open(newest, str(tmp_path / "none.sqlite"))
    client = studio.create_app(opened).test_client()
    described = client.get("/api/model").get_json()
    assert described["sliders"] == []
    assert (
        described["note"] == f"no pipeline metadata at {tmp_path / 'none.sqlite'} to find "
        "the model's attribute directions in (--metadata)"
    )
    assert client.get("/api/face?seed=0&index=0").status_code == 200
    refused = client.get("/api/face?seed=0&index=0&edits=Smiling=1")
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "unknown attribute 'Smiling'; this model's sliders: none"


# --- the web app's refusals, through its test client ----------------------------------------------


@pytest.fixture(scope="module")
def client(model, output_root):
    """The studio's web app on the unconditional model with its found directions (no server)."""
    _, found = output_root
    return studio.create_app(studio.Studio(model, found, {}, evaluation=None)).test_client()


@pytest.mark.parametrize(
    "method, path, status, message",
    [
        ("GET", "/api/strip?seed=0&index=0", 400, "to is missing"),
        (
            "GET",
            "/api/strip?seed=0&index=0&to=1&frames=abc",
            400,
            "frames must be a whole number from 2 to 32, not 'abc'",
        ),
        ("GET", "/api/grid?seed=abc", 400, "seed must be a whole number from 0 to"),
        ("POST", "/api/grid?seed=0", 405, "POST is not allowed on /api/grid: it answers GET, HEAD"),
        ("POST", "/api/face?seed=0&index=0", 405, "POST is not allowed on /api/face"),
        ("DELETE", "/", 405, "DELETE is not allowed on /: it answers GET, HEAD"),
    ],
)
def test_bad_requests_to_the_app_are_4xx_with_one_line(client, method, path, status, message):
    answered = client.open(path, method=method)
    assert answered.status_code == status
    said = answered.get_json()["error"]
    assert message in said and len(said.splitlines()) == 1, said


QUERY_PARTS = [
    "seed",
    "index",
    "count",
    "to",
    "frames",
    "method",
    "edits",
    "",
    "=",
    "&",
    "%",
    "%00",
    "%ff",
    "-1",
    "0",
    "1",
    "63",
    "64",
    "1e3",
    "9" * 30,
    "nan",
    "inf",
    ",",
    "Smiling",
    "Male",
    "Eyeglasses",
    "Smiling=1",
    "Smiling=-5.5",
    "slerp",
    "linear",
    "é",
    " ",
    "+",
    "[]",
    "{}",
    "\\",
]


def test_no_query_string_makes_the_app_fail(client):
    """Fuzzing with a fixed seed: 400 random query strings, built from the parameter names, their
    edge values and junk, against every route. Each answer is a 200 or a 4xx with one line of
    error; none is a server error."""
    rng = random.Random(0)
    routes = ["/api/grid", "/api/face", "/api/recipe", "/api/strip", "/api/model"]
    answered = collections.Counter()
    for _ in range(400):
        query = "".join(rng.choice(QUERY_PARTS) for _ in range(rng.randint(0, 12)))
        response = client.get(f"{rng.choice(routes)}?{query}")
        answered[response.status_code // 100] += 1
        assert response.status_code < 500, (query, response.get_data(as_text=True)[:300])
        if response.status_code >= 400:
            assert len(response.get_json()["error"].splitlines()) == 1, query
    assert answered[2] and answered[4]  # the fuzz reached both answers
