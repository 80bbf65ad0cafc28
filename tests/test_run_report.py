"""The run report page: written by the runner after two tiny pipeline runs (the first blessed and
pushed, the second worse than that baseline and held back), opened in a real headless Chromium.

Chromium is Debian's (scripts/install_browser.sh, run by `make test`), driven by Playwright.
"""

import base64
import io
import os
import re

import chromium
import numpy as np
import pytest
import tensorflow as tf
from built_in_faces import built_in_faces
from PIL import Image

from common import PROBE_SECONDS, QUALITY_PREFIX, REAL_VS_REAL_PREFIX
from dcgan_faces import cli, directions
from pipeline import run_local
from pipeline_config import PipelineConfig
from reporting import report_html, run_report

MIN_PIXEL_STD = 8.0  # grey levels: a blank or broken image is flat
slow = pytest.mark.slow


@pytest.fixture(scope="module")
def two_runs(gated_runs):
    return gated_runs


def report_path(summary):
    (path,) = re.findall(r"^  Run report: +(\S+)$", summary, flags=re.MULTILINE)
    return path


@pytest.fixture(scope="module")
def browser():
    with chromium.playwright() as playwright:
        yield playwright


def open_page(browser, path, user_data_dir):
    """(context, page, errors): the page as Chromium shows it, in a fresh profile, with every
    console error, page error and failed request."""
    context = browser.chromium.launch_persistent_context(
        str(user_data_dir),
        executable_path=chromium.CHROMIUM,
        headless=True,
        args=chromium.CHROMIUM_ARGS,
        viewport={"width": 1200, "height": 900},
    )
    page = context.new_page()
    errors = chromium.errors_of(page)
    page.goto(f"file://{path}", wait_until="load")
    return context, page, errors


@pytest.fixture(scope="module")
def pages(two_runs, browser, module_tmp):
    """(page, text, errors) of the first and the second run's reports, open in Chromium."""
    _, (_, first_summary), (_, second_summary) = two_runs
    opened = [
        open_page(browser, report_path(summary), module_tmp("profile"))
        for summary in (first_summary, second_summary)
    ]
    yield [(page, page.inner_text("body"), errors) for _, page, errors in opened]
    for context, _, _ in opened:
        context.close()


def pixel_std(element) -> float:
    return float(
        np.asarray(Image.open(io.BytesIO(element.screenshot())).convert("L"), np.float32).std()
    )


@slow
def test_the_runner_writes_one_report_per_run_and_prints_its_path(two_runs):
    config, (first, first_summary), (second, second_summary) = two_runs
    for outputs, summary in ((first, first_summary), (second, second_summary)):
        path = report_path(summary)
        assert path == run_report.default_path(
            config.output_root, config.pipeline_name, outputs.run_id
        )
        assert os.path.getsize(path) > 10_000
    assert report_path(first_summary) != report_path(second_summary)


@slow
def test_the_page_is_self_contained(two_runs):
    _, (_, summary), _ = two_runs
    with open(report_path(summary), encoding="utf-8") as f:
        page = f.read()
    assert "<script" not in page and not re.search(r"(src|href)=\"(https?:|//)", page)


@slow
def test_the_pages_load_without_console_errors(pages):
    for _, _, errors in pages:
        assert errors == []


@slow
def test_every_image_is_decoded(pages):
    for page, _, _ in pages:
        widths = page.eval_on_selector_all("img", "images => images.map(i => i.naturalWidth)")
        # 3 plots, the Trainer's grid(s) and GIF, the evaluator's grid
        assert len(widths) >= 6 and all(width > 0 for width in widths)


@slow
def test_plots_and_sample_grids_are_not_blank(pages):
    page, _, _ = pages[0]
    plots = [page.locator(f"#plot-{name}") for name, *_ in report_html.PLOTS]
    grids = page.locator("figure.sample-grid img").all()
    assert len(grids) >= 3  # the Trainer's final grid, the evaluator's samples and its edit grid
    assert page.locator("figure.edit-grid img").count() == 1
    for element in plots + grids:
        assert pixel_std(element) > MIN_PIXEL_STD


@slow
def test_key_numbers_appear_in_the_text(two_runs, pages):
    config, (first, _), (second, _) = two_runs
    (_, first_text, _), (_, second_text, _) = pages
    report = run_report.gather(config.metadata_path, first.run_id)
    counts = report.ingestion
    assert f"files seen\t{counts['files_seen']}" in first_text
    for split, count in counts["examples_per_split"].items():
        assert f"examples in {split}\t{count}" in first_text
    primary = first.metrics["primary_metric"]
    assert f"{primary} (primary)\t{first.metrics[primary]:.4f}" in first_text
    assert "none: every split matches the schema." in first_text
    assert f"Blessed, pushed to {first.pushed_model}." in first_text
    assert f"Pushed model: {first.pushed_model}" in first_text
    smiling = first.metrics["attributes/classifier_accuracy/Smiling"]  # the attribute table
    assert f"Smiling\t{smiling:.3f}\t" in first_text
    edited = first.metrics["attributes/edit_grid"]  # and its one edit grid
    assert f"{edited} added along its direction" in first_text
    assert "Face arithmetic, smiling woman - neutral woman + neutral man: " in first_text
    trained = report.training_config  # the networks' widths the Trainer recorded
    assert (
        f"variant, G {trained['generator_filters']} / D {trained['discriminator_filters']} "
        "filters, z of size" in first_text
    )

    assert f"{second.metrics[primary]:.4f}" in second_text
    assert f"{second.metrics[primary + '_baseline']:.4f}" in second_text
    assert (
        "Not blessed, not pushed: " + "; ".join(second.metrics["not_blessed_reasons"])
        in second_text
    )
    assert "Pushed model: none from this run." in second_text


@slow
def test_training_curves_and_grids_come_from_the_trainers_files(two_runs):
    config, (first, _), (second, _) = two_runs
    report = run_report.gather(config.metadata_path, first.run_id)
    assert [step for step, _ in report.scalars["d_loss"]] == [1, 2]  # log_every_steps=1
    assert all(value > 0 for _, value in report.scalars["images_per_second"])
    assert report.training_config["train_steps"] == 2
    # A grid after every epoch, and a final one when the run ends mid-epoch.
    per_epoch = report.ingestion["examples_per_split"]["train"] // config.batch_size
    epochs = [f"epoch {epoch}" for epoch in range(1, 2 // per_epoch + 1)]
    assert [label for label, _ in report.sample_grids] == epochs + (
        ["final"] if not epochs or 2 % per_epoch else []
    )
    # The second Trainer resumed from the first one's checkpoint (same inputs and config).
    resumed = run_report.gather(config.metadata_path, second.run_id)
    assert [step for step, _ in resumed.scalars["d_loss"]] == [3]
    assert resumed.training_config["train_steps"] == 3


@slow
def test_the_report_command_writes_a_named_run(two_runs, tmp_path, capsys):
    config, (first, _), _ = two_runs
    out = tmp_path / "first.html"
    assert (
        cli.main(
            [
                "report",
                "--output-root",
                config.output_root,
                "--run",
                first.run_id,
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out == f"{out}\n"
    assert f"run {first.run_id}" in out.read_text(encoding="utf-8")
    assert cli.main(["report", "--output-root", config.output_root, "--run", "nope"]) == 2
    assert "error: no pipeline run 'nope'; recorded: " in capsys.readouterr().err


@slow
def test_info_finds_each_models_config_and_metrics(two_runs, capsys):
    config, (first, _), (second, _) = two_runs
    primary = first.metrics["primary_metric"]
    assert cli.main(["info", first.pushed_model, "--metadata", config.metadata_path]) == 0
    out = capsys.readouterr().out
    assert "train_steps: 2" in out and f"{primary}: {first.metrics[primary]:.4f}" in out
    assert out.rstrip().endswith("BLESSED") and "NOT BLESSED" not in out
    second_model = run_report.gather(config.metadata_path, second.run_id).model_dir
    assert cli.main(["info", second_model, "--metadata", config.metadata_path]) == 0
    out = capsys.readouterr().out
    assert "train_steps: 3" in out and f"{primary}: {second.metrics[primary]:.4f}" in out
    assert "NOT BLESSED: " in out


@slow
def test_edit_moves_faces_along_an_attribute_direction_the_evaluator_found(
    two_runs, tmp_path, capsys
):
    config, (first, _), _ = two_runs
    found = directions.find_directions(first.pushed_model, config.metadata_path)
    name, direction = next(iter(found.items()))
    assert direction.shape == (100,) and np.linalg.norm(direction) == pytest.approx(1.0)
    grid = tmp_path / "edit.png"
    argv = [
        "edit",
        first.pushed_model,
        "--add",
        name,
        "--grid",
        str(grid),
        "--rows",
        "2",
        "--columns",
        "3",
        "--metadata",
        config.metadata_path,
    ]
    assert cli.main(argv) == 0
    assert (
        f"2 faces (rows, seed 0) with {name} added at strength 0, 1.5, 3" in capsys.readouterr().out
    )
    with Image.open(grid) as image:
        assert image.size == (3 * 64 + 2 * 2, 2 * 64 + 2)  # 2-pixel gaps, as the sample grids
        cells = np.asarray(image)
    assert not np.array_equal(cells[:64, :64], cells[:64, -64:])  # the strength changes faces
    kept_name = next(other for other in found if other != name)
    kept_grid = tmp_path / "kept.png"
    assert cli.main(argv[:5] + [str(kept_grid), "--keep", kept_name] + argv[6:]) == 0
    assert f"with {name} added keeping {kept_name} at strength 0, 1.5, 3" in capsys.readouterr().out
    with Image.open(kept_grid) as image:
        kept = np.asarray(image)
    assert np.array_equal(kept[:, :64], cells[:, :64])  # strength 0: the same faces
    assert not np.array_equal(kept[:, -64:], cells[:, -64:])  # another direction
    assert cli.main(argv + ["--keep", name]) == 2
    assert (
        capsys.readouterr().err.strip() == f"error: --keep names {name}, the attribute "
        "--add changes"
    )
    assert cli.main(argv[:3] + ["Wings"] + argv[4:]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        f"error: no direction for attribute 'Wings'; this model has directions for {name}"
    )


@slow
def test_arithmetic_draws_concepts_and_their_sum_from_the_evaluators_labelled_samples(
    two_runs, tmp_path, capsys
):
    config, (first, _), _ = two_runs
    name = next(iter(directions.find_directions(first.pushed_model, config.metadata_path)))
    grid = tmp_path / "sum.png"
    argv = [
        "arithmetic",
        first.pushed_model,
        f"{name} - {name}=0 + {name}",
        "--grid",
        str(grid),
        "--metadata",
        config.metadata_path,
    ]
    assert cli.main(argv) == 0
    assert f"{name} - {name}=0 + {name} = the last row" in capsys.readouterr().out
    with Image.open(grid) as image:  # a row per concept, then the result's; 3 faces and a mean
        assert image.size == (4 * 64 + 3 * 2, 4 * 64 + 3 * 2)
    assert cli.main(argv[:2] + ["Wings"] + argv[3:]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: unknown attribute 'Wings'")
    floor = first.metrics["attributes/arithmetic/smiling_man_floor"]  # the paper's example
    assert 0.0 <= floor <= 1.0 and "attributes/arithmetic/smiling_man" in first.metrics


@slow
def test_a_failed_run_gets_a_page_that_says_where_it_stopped(tmp_path, capsys):
    config = PipelineConfig(
        data_root=str(tmp_path / "empty"), output_root=str(tmp_path / "out"), synthetic_num_images=0
    )
    os.makedirs(os.path.join(config.data_root, "img_align_celeba"))
    with pytest.raises(ValueError, match="No files in"):
        run_local.run(config)
    assert cli.main(["report", "--output-root", config.output_root]) == 0
    with open(capsys.readouterr().out.strip(), encoding="utf-8") as f:
        page = f.read()
    assert "Not evaluated: the run stopped at CelebAExampleGen." in page
    assert "The run did not reach ingestion." in page and "<td>failed</td>" in page


def test_a_page_rendered_from_a_trainers_files_shows_in_chromium(tmp_path, browser):
    """The fast tier's browser check (the two-run tests above are slow): a page of losses,
    quality curves and sample grids from files as the Trainer writes them, opened in Chromium:
    no console error, every image decoded, no plot or grid blank."""
    write_quality_scalars(tmp_path / "logs")
    images, _ = built_in_faces(8)
    grids = []
    for label, first in (("epoch 1", 0), ("final", 4)):
        path = tmp_path / f"{label.replace(' ', '_')}.png"
        Image.fromarray(np.concatenate(images[first : first + 4], axis=1)).save(path)
        grids.append((label, str(path)))
    report = run_report.RunReport(
        pipeline_name="p",
        run_id="r",
        states={"Trainer": "COMPLETE"},
        training_config={"probe_samples": 20, "eval_every_steps": 5},
        scalars=run_report.read_scalars(str(tmp_path / "logs")),
        sample_grids=grids,
    )
    path = tmp_path / "page.html"
    path.write_text(report_html.render(report), encoding="utf-8")
    context, page, errors = open_page(browser, path, tmp_path / "profile")
    try:
        assert errors == []
        widths = page.eval_on_selector_all("img", "images => images.map(i => i.naturalWidth)")
        assert len(widths) >= 4 and all(width > 0 for width in widths)  # 2 plots, 2 grids
        shown = page.locator("figure.sample-grid img").all()
        assert len(shown) == 2
        for element in shown + [page.locator("#plot-losses"), page.locator("#plot-quality")]:
            assert pixel_std(element) > MIN_PIXEL_STD
        assert "epoch 1" in page.inner_text("body")
    finally:
        context.close()


def test_a_run_stopped_by_anomalies_gets_a_page_that_says_so():
    report = run_report.RunReport(
        pipeline_name="p",
        run_id="r",
        states={
            "CelebAExampleGen": "COMPLETE",
            "ExampleValidator": "COMPLETE",
            "AnomalyGate": "FAILED",
        },
        anomalies=["train: height: Out-of-range values (Unexpectedly large value: 250.)"],
    )
    page = report_html.render(report)
    assert "Not evaluated: the run stopped at AnomalyGate." in page
    assert "<li>train: height: Out-of-range values (Unexpectedly large value: 250.)</li>" in page
    assert "The run did not reach the Trainer." in page


def test_scalars_of_a_resumed_run_take_the_later_file(tmp_path):
    for values in ({1: 4.0, 2: 3.0}, {2: 2.5, 3: 2.0}):  # the second writer resumed at step 2
        writer = tf.summary.create_file_writer(str(tmp_path))
        with writer.as_default():
            for step, value in values.items():
                tf.summary.scalar("d_loss", value, step=step)
        writer.close()
    assert run_report.read_scalars(str(tmp_path)) == {"d_loss": [(1, 4.0), (2, 2.5), (3, 2.0)]}


def test_a_long_runs_sample_grids_are_thinned_evenly(tmp_path):
    for name in [f"epoch_{epoch:03d}.png" for epoch in range(1, 31)] + ["final.png"]:
        (tmp_path / name).write_bytes(b"")
    labels = [label for label, _ in run_report.sample_grids(str(tmp_path))]
    assert len(labels) == run_report.MAX_SAMPLE_GRIDS + 1
    assert labels[0] == "epoch 1" and labels[-2:] == ["epoch 30", "final"]


def write_quality_scalars(log_dir, ceiling=True):
    """The Trainer's quality probe scalars as side_jobs.QualityScores writes them."""
    writer = tf.summary.create_file_writer(str(log_dir))
    with writer.as_default():
        tf.summary.scalar("d_loss", 1.0, step=5)
        if ceiling:
            for name in report_html.QUALITY_METRICS:
                tf.summary.scalar(REAL_VS_REAL_PREFIX + name, 0.9, step=0)
        for step, fid in ((5, 80.0), (10, 60.0)):
            for name in report_html.QUALITY_METRICS:
                tf.summary.scalar(QUALITY_PREFIX + name, fid if name == "fid" else 0.5, step=step)
            tf.summary.scalar(PROBE_SECONDS, 2.0, step=step)
    writer.close()


def plot_pixel_std(page: str, plot_id: str) -> float:
    (data,) = re.findall(rf'id="plot-{plot_id}" src="data:image/png;base64,([^"]+)"', page)
    return float(
        np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("L"), np.float32).std()
    )


def test_the_quality_curves_are_read_and_plotted_next_to_the_losses(tmp_path):
    write_quality_scalars(tmp_path)
    report = run_report.RunReport(
        pipeline_name="p",
        run_id="r",
        states={"Trainer": "COMPLETE"},
        training_config={"probe_samples": 20, "eval_every_steps": 5},
        scalars=run_report.read_scalars(str(tmp_path)),
    )
    assert set(report.quality_curves) == set(report_html.QUALITY_METRICS)  # probe_seconds aside
    assert report.quality_curves["fid"] == [(5, 80.0), (10, 60.0)]
    assert report.quality_real_vs_real == {
        name: pytest.approx(0.9) for name in report_html.QUALITY_METRICS
    }
    page = report_html.render(report)
    assert (
        page.index('id="plot-losses"')
        < page.index('id="plot-quality"')
        < page.index("<h3>Discriminator outputs</h3>")
    )
    assert "on 20 fixed z" in page and "Dotted: the next as many training images" in page
    assert "The probe took 4.0 s over 2 points." in page
    assert plot_pixel_std(page, "quality") > MIN_PIXEL_STD


def test_without_quality_scalars_the_page_says_the_probe_was_off(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        tf.summary.scalar("d_loss", 1.0, step=5)
    writer.close()
    report = run_report.RunReport(
        pipeline_name="p",
        run_id="r",
        states={"Trainer": "COMPLETE"},
        training_config={},
        scalars=run_report.read_scalars(str(tmp_path)),
    )
    assert report.quality_curves == {} and report.quality_real_vs_real == {}
    page = report_html.render(report)
    assert 'id="plot-quality"' not in page and "No quality scores recorded" in page


def test_the_curves_plot_without_a_real_vs_real_ceiling(tmp_path):
    write_quality_scalars(tmp_path, ceiling=False)
    report = run_report.RunReport(
        pipeline_name="p",
        run_id="r",
        states={"Trainer": "COMPLETE"},
        training_config={},
        scalars=run_report.read_scalars(str(tmp_path)),
    )
    page = report_html.render(report)
    assert report.quality_real_vs_real == {} and "Dotted:" not in page
    assert plot_pixel_std(page, "quality") > MIN_PIXEL_STD


@slow  # two whole tiny pipeline runs behind it, as every test of two_runs
def test_a_run_held_back_says_how_to_train_on(two_runs):
    """The summary of a model the gate held back names the remedy that most often works: more
    steps, resumed from where the run stopped; a pushed model's summary has no such line."""
    config, (_, first_summary), (second, second_summary) = two_runs
    assert not second.metrics["blessed"] and "Train on:" not in first_summary
    assert (
        "rerun with --train-steps above 3, and the Trainer resumes from this run's last checkpoint"
    ) in second_summary
