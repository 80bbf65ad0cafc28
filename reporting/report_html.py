"""One self-contained HTML page for a run: every plot and image inside it as a data URI, no
script, no external URL, so it opens from disk, offline, and can be mailed as one file.

run_report gathers the run's facts; this module draws the plots, embeds the images and formats
the numbers, and the page's structure is the Jinja2 template beside it (report_page.html.j2,
autoescaped). `write_report` ties the two: gather a run, write its page.
"""

from __future__ import annotations

import base64
import io
import math
import os

import jinja2
from markupsafe import Markup
from matplotlib.figure import Figure
from tfx.dsl.io import fileio
from tfx.utils import io_utils

from components.gan_evaluator.results import (
    EDIT_GRID_KEY,
    METRICS_FILE,
    arithmetic_line,
    attribute_columns,
    attribute_rows,
    fidelity_line,
)
from reporting.run_report import PROBE_SECONDS, RunReport, default_path, gather

TEMPLATE = jinja2.Environment(
    loader=jinja2.PackageLoader("reporting", "."),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
).get_template("report_page.html.j2")

# The Trainer's TensorBoard scalars (trainer_module/side_jobs.py), grouped into plots.
PLOTS = (
    ("losses", "Losses", "loss", {"d_loss": "D loss", "g_loss": "G loss"}),
    (
        "discriminator",
        "Discriminator outputs",
        "mean output",
        {"d_real": "mean D(x), real", "d_fake": "mean D(G(z)), generated"},
    ),
    ("throughput", "Training speed", "images/s", {"images_per_second": "images/s"}),
)
SUFFIXES = ("_untrained", "_ratio_to_untrained", "_baseline", "_std", "_real_vs_real")
# The quality probe's metrics (TensorBoard quality/<metric>), one panel each, in this order.
QUALITY_METRICS = ("fid", "kid", "precision", "recall", "density", "coverage")

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem;
       color: #1b1b1b; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: .25rem .6rem; text-align: left; }
.verdict { font-size: 1.2rem; font-weight: bold; padding: .6rem 1rem; border-radius: .4rem; }
.blessed { background: #e3f5e1; color: #17561a; }
.not-blessed { background: #fbe4e4; color: #7a1616; }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(17rem, 1fr)); gap: 1rem; }
figure { margin: 0; } figure img { width: 100%; image-rendering: pixelated; }
figcaption { font-size: .9rem; color: #555; } code { background: #f3f3f3; padding: 0 .2rem; }
img.plot, .evaluator-grid { width: 100%; max-width: 40rem; }
.holds { color: #17561a; } .fails { color: #7a1616; font-weight: bold; }
"""


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def embedded_image(path: str | None, alt: str) -> dict:
    """The file as a data URI for the template's `image` macro; uri None when there is no such
    file (the page says so, naming the path)."""
    if not path or not fileio.exists(path) or fileio.isdir(path):
        return {"uri": None, "path": path, "alt": alt}
    mime = "image/gif" if path.endswith(".gif") else "image/png"
    return {"uri": _data_uri(io_utils.read_bytes_file(path), mime), "path": path, "alt": alt}


def _draw_lines(axes, series: dict) -> None:
    """One line per {label: [(step, value)]} over the training step; markers while points are
    few enough to see."""
    for label, points in series.items():
        steps, values = zip(*points)
        axes.plot(steps, values, label=label, marker="o" if len(points) <= 30 else None)
    axes.set_xlabel("training step")
    axes.grid(alpha=0.3)


def _png(figure: Figure) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def plot_png(series: dict, ylabel: str) -> bytes:
    """Lines over the training step, one per {label: [(step, value)]}, as PNG bytes (Agg)."""
    figure = Figure(figsize=(7, 3.2), dpi=100)
    axes = figure.add_subplot()
    _draw_lines(axes, series)
    axes.set_ylabel(ylabel)
    axes.legend()
    return _png(figure)


def quality_plot_png(curves: dict, ceilings: dict) -> bytes:
    """One panel per metric {name: [(step, value)]} over the training step, the real-vs-real
    ceiling {name: value} dotted where there is one. Separate panels, because the scales differ:
    FD in tens, KID in hundredths, the others around [0, 1]."""
    names = sorted(
        curves,
        key=lambda name: (
            QUALITY_METRICS.index(name) if name in QUALITY_METRICS else len(QUALITY_METRICS),
            name,
        ),
    )
    columns = min(3, len(names))
    rows = math.ceil(len(names) / columns)
    figure = Figure(figsize=(7, 2.3 * rows), dpi=100)
    for index, name in enumerate(names, start=1):
        axes = figure.add_subplot(rows, columns, index)
        _draw_lines(axes, {"model": curves[name]})
        if name in ceilings:
            axes.axhline(ceilings[name], color="grey", linestyle=":", label="real vs real")
        axes.set_title(name)
    figure.axes[0].legend(fontsize=7)
    return _png(figure)


def _ingestion_view(report: RunReport) -> dict | None:
    ingestion = report.ingestion
    if ingestion is None:
        return None
    rows = [
        ("files seen", f"{ingestion['files_seen']:,}"),
        ("examples", f"{ingestion['examples']:,}"),
        *(
            (f"examples in {split}", f"{count:,}")
            for split, count in ingestion["examples_per_split"].items()
        ),
        ("set aside", f"{ingestion['rejected']:,}"),
        *(
            (f"set aside: {reason}", f"{count:,}")
            for reason, count in ingestion["rejected_per_reason"].items()
        ),
    ]
    return {
        "data_root": ingestion["data_root"],
        "split_source": ingestion["split_source"],
        "rows": rows,
        "report_path": report.ingestion_report_path,
    }


def _training_view(report: RunReport) -> dict | None:
    config = report.training_config
    if config is None:
        return None
    summary = (
        f"{config.get('train_steps')} steps of batch {config.get('batch_size')}, "
        f"Adam lr G {config.get('g_learning_rate')} D {config.get('d_learning_rate')} "
        f"β1 {config.get('beta_1')}, {config.get('variant')} variant, "
        f"G {config.get('generator_filters')} / D {config.get('discriminator_filters')} filters, "
        f"z of size {config.get('z_dim')}, seed {config.get('train_seed')}."
    )
    plots = []
    for plot_id, title, ylabel, names in PLOTS:
        series = {
            label: report.scalars[name] for name, label in names.items() if report.scalars.get(name)
        }
        uri = _data_uri(plot_png(series, ylabel), "image/png") if series else None
        plots.append({"id": plot_id, "title": title, "uri": uri})
    grids = [
        (label, embedded_image(path, f"samples, {label}")) for label, path in report.sample_grids
    ]
    progress = embedded_image(report.progress_gif, "progress") if report.progress_gif else None
    return {
        "summary": summary,
        "plots": plots,
        "quality": _quality_view(report),
        "grids": grids,
        "progress": progress,
    }


def _quality_view(report: RunReport) -> dict | None:
    """The Trainer's in-training quality probe against steps, with what it is and what it cost;
    None when the probe was off."""
    curves = report.quality_curves
    if not curves:
        return None
    config = report.training_config or {}
    seconds = [value for _, value in report.scalars.get(PROBE_SECONDS, [])]
    text = (
        f"What an export would draw, on {config.get('probe_samples', '?')} fixed z against "
        "the first as many training images (all of them if fewer), scored with the evaluator's "
        f"code on the random embedding every {config.get('eval_every_steps', '?')} steps and "
        "at the last. "
        + (
            "Dotted: the next as many training images against the same reference, real vs real. "
            if report.quality_real_vs_real
            else ""
        )
        + (f"The probe took {sum(seconds):.1f} s over {len(seconds)} points." if seconds else "")
    )
    uri = _data_uri(quality_plot_png(curves, report.quality_real_vs_real), "image/png")
    return {"text": text, "uri": uri}


def _metric_rows(metrics: dict) -> list:
    primary = metrics["primary_metric"]

    def cell(key: str) -> str:
        value = metrics.get(key)
        if not isinstance(value, (int, float)):
            return "—"
        std = metrics.get(key + "_std")
        return f"{value:.4f}" + (f" ± {std:.4f}" if std is not None else "")

    keys = sorted(
        (
            key
            for key, value in metrics.items()
            if "/" in key
            and not key.startswith("attributes/")  # their own table
            and isinstance(value, (int, float))
            and not key.endswith(SUFFIXES)
        ),
        key=lambda key: (key != primary, key),
    )
    return [
        (
            Markup("<b>{}</b> (primary)").format(key) if key == primary else key,
            cell(key),
            cell(key + "_untrained"),
            cell(key + "_baseline"),
            cell(key + "_real_vs_real"),
        )
        for key in keys
    ]


def _attribute_view(report: RunReport) -> dict | None:
    """The per-attribute table (components/gan_evaluator/results.py) and the evaluator's edit and
    request grids; None when no attributes were measured."""
    metrics = report.metrics
    rows = attribute_rows(metrics)
    if not rows:
        return None
    edit_name = metrics.get(EDIT_GRID_KEY, "?")
    return {
        "header": ["attribute"] + [title for _, title in attribute_columns(metrics)],
        "rows": [
            [name] + [f"{value:.3f}" if math.isfinite(value) else "—" for value in values]
            for name, values in rows
        ],
        "lines": [line for line in (fidelity_line(metrics), arithmetic_line(metrics)) if line],
        "edit_name": edit_name,
        "edit_grid": report.evaluator_edit_grid
        and embedded_image(report.evaluator_edit_grid, f"{edit_name} added"),
        "request_grid": report.evaluator_request_grid
        and embedded_image(report.evaluator_request_grid, "faces on request"),
        "names": [name for name, _ in rows],
    }


def _evaluation_view(report: RunReport) -> dict | None:
    if report.metrics is None:
        return None
    return {
        "metric_rows": _metric_rows(report.metrics),
        "attributes": _attribute_view(report),
        "metrics_path": os.path.join(report.evaluation_dir, METRICS_FILE),
        "grid": embedded_image(report.evaluator_sample_grid, "evaluator samples"),
    }


def _gate_rows(report: RunReport) -> list:
    return [
        (
            check.description,
            "—" if check.value is None else f"{check.value:.4f}",
            Markup('<span class="holds">holds</span>')
            if check.holds
            else Markup('<span class="fails">fails</span>'),
        )
        for check in report.gate
    ]


def render(report: RunReport) -> str:
    """The run's page (report_page.html.j2)."""
    return TEMPLATE.render(
        title=f"{report.pipeline_name} run {report.run_id}",
        style=Markup(STYLE),
        failed=[name for name, state in report.states.items() if state == "FAILED"],
        steps=[(name, state.lower()) for name, state in report.states.items()],
        ingestion=_ingestion_view(report),
        anomalies=report.anomalies,
        training=_training_view(report),
        metrics=report.metrics,
        evaluation=_evaluation_view(report),
        baseline_model=report.baseline_model,
        gate=_gate_rows(report),
        pushed_model=report.pushed_model,
        model_dir=report.model_dir,
    )


def write_report(
    metadata_path: str, output_root: str, run_id: str | None = None, out: str | None = None
) -> str:
    """Gathers the run (the latest by default), writes its page and returns the page's path."""
    report = gather(metadata_path, run_id)
    path = out or default_path(output_root, report.pipeline_name, report.run_id)
    if "://" not in path:
        path = os.path.abspath(path)
    io_utils.write_string_file(path, render(report))
    return path
