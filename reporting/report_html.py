"""One self-contained HTML page for a run: every plot and image inside it as a data URI, no
script, no external URL, so it opens from disk, offline, and can be mailed as one file.

run_report gathers the run's facts; this module only draws them (`render`), and `write_report`
ties the two: gather a run, write its page.
"""
from __future__ import annotations

import base64
import html
import io
import math
import os
from typing import Iterable, Optional

from matplotlib.figure import Figure
from tfx.dsl.io import fileio
from tfx.utils import io_utils

from components.gan_evaluator.results import (
    EDIT_GRID_KEY, METRICS_FILE, arithmetic_line, attribute_columns, attribute_rows, fidelity_line)
from reporting.run_report import PROBE_SECONDS, RunReport, default_path, gather

# The Trainer's TensorBoard scalars (trainer_module/training_loop.py), grouped into plots.
PLOTS = (
    ("losses", "Losses", "loss", {"d_loss": "D loss", "g_loss": "G loss"}),
    ("discriminator", "Discriminator outputs", "mean output",
     {"d_real": "mean D(x), real", "d_fake": "mean D(G(z)), generated"}),
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


def _esc(value) -> str:
    return html.escape(str(value))


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _file_img(path: Optional[str], alt: str) -> str:
    """The file embedded as an <img>, or a note when there is no such file."""
    if not path or not fileio.exists(path) or fileio.isdir(path):
        return f"<p>No {_esc(alt)} found{f' at <code>{_esc(path)}</code>' if path else ''}.</p>"
    mime = "image/gif" if path.endswith(".gif") else "image/png"
    uri = _data_uri(io_utils.read_bytes_file(path), mime)
    return f'<img src="{uri}" alt="{_esc(alt)}">'


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """Cells are HTML already."""
    head = "".join(f"<th>{cell}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


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
    names = sorted(curves, key=lambda name: (
        QUALITY_METRICS.index(name) if name in QUALITY_METRICS else len(QUALITY_METRICS), name))
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


def _steps_section(report: RunReport) -> str:
    rows = [(_esc(name), _esc(state.lower())) for name, state in report.states.items()]
    return "<h2>Steps</h2>" + _table(["component", "state"], rows)


def _data_section(report: RunReport) -> str:
    parts = ["<h2>Data</h2>"]
    ingestion = report.ingestion
    if ingestion is None:
        parts.append("<p>The run did not reach ingestion.</p>")
    else:
        rows = [("files seen", f"{ingestion['files_seen']:,}"),
                ("examples", f"{ingestion['examples']:,}"),
                *((f"examples in {_esc(split)}", f"{count:,}")
                  for split, count in ingestion["examples_per_split"].items()),
                ("set aside", f"{ingestion['rejected']:,}"),
                *((f"set aside: {_esc(reason)}", f"{count:,}")
                  for reason, count in ingestion["rejected_per_reason"].items())]
        parts += [f"<p>From <code>{_esc(ingestion['data_root'])}</code>, split by "
                  f"{_esc(ingestion['split_source'])}.</p>",
                  _table(["ingestion", "count"], rows),
                  f"<p>Ingestion report: <code>{_esc(report.ingestion_report_path)}</code></p>"]
    parts.append("<h3>TFDV anomalies</h3>")
    if report.anomalies is None:
        parts.append("<p>Data validation did not run.</p>")
    elif not report.anomalies:
        parts.append('<p id="anomalies">none: every split matches the schema.</p>')
    else:
        parts.append('<ul id="anomalies">' + "".join(
            f"<li>{_esc(line)}</li>" for line in report.anomalies) + "</ul>")
    return "".join(parts)


def _widths(config: dict) -> str:
    """", G 1024 / D 64 filters" (models trained before the widths were settings: "")."""
    if "generator_filters" not in config:
        return ""
    return f", G {config['generator_filters']} / D {config['discriminator_filters']} filters"


def _training_section(report: RunReport) -> str:
    parts = ["<h2>Training</h2>"]
    config = report.training_config
    if config is None:
        return parts[0] + "<p>The run did not reach the Trainer.</p>"
    parts.append(f"<p>{config.get('train_steps')} steps of batch {config.get('batch_size')}, "
                 f"Adam lr G {config.get('g_learning_rate')} D {config.get('d_learning_rate')} β1 {config.get('beta_1')}, "
                 f"{_esc(config.get('variant'))} variant{_widths(config)}, z of size "
                 f"{config.get('z_dim')}, seed {config.get('train_seed')}.</p>")
    for plot_id, title, ylabel, names in PLOTS:
        series = {label: report.scalars[name] for name, label in names.items()
                  if report.scalars.get(name)}
        parts.append(f"<h3>{_esc(title)}</h3>")
        if not series:
            parts.append("<p>No TensorBoard scalars recorded.</p>")
        else:
            uri = _data_uri(plot_png(series, ylabel), "image/png")
            parts.append(
                f'<img class="plot" id="plot-{plot_id}" src="{uri}" alt="{_esc(title)}">')
        if plot_id == "losses":  # quality next to the losses, which say little about it
            parts.append(_quality_plot(report))
    parts.append("<h3>Samples over training</h3><p>One fixed z, after every epoch.</p>")
    figures = [f'<figure class="sample-grid">{_file_img(path, f"samples, {label}")}'
               f"<figcaption>{_esc(label)}</figcaption></figure>"
               for label, path in report.sample_grids]
    if report.progress_gif:
        figures.append(f'<figure class="progress">{_file_img(report.progress_gif, "progress")}'
                       "<figcaption>all epochs, animated</figcaption></figure>")
    parts.append(f'<div class="gallery">{"".join(figures)}</div>' if figures
                 else "<p>No sample grids recorded.</p>")
    return "".join(parts)


def _quality_plot(report: RunReport) -> str:
    """The Trainer's in-training quality probe against steps, with what it is and what it cost."""
    parts = ["<h3>Quality during training</h3>"]
    curves = report.quality_curves
    if not curves:
        return parts[0] + ("<p>No quality scores recorded (the Trainer's probe is off when "
                           "eval_every_steps is 0).</p>")
    config = report.training_config or {}
    seconds = [value for _, value in report.scalars.get(PROBE_SECONDS, [])]
    parts.append(
        f"<p>What an export would draw, on {config.get('probe_samples', '?')} fixed z against "
        "the first as many training images (all of them if fewer), scored with the evaluator's "
        f"code on the random embedding every {config.get('eval_every_steps', '?')} steps and "
        "at the last. "
        + ("Dotted: the next as many training images against the same reference, real vs real. "
           if report.quality_real_vs_real else "")
        + (f"The probe took {sum(seconds):.1f} s over {len(seconds)} points." if seconds else "")
        + "</p>")
    uri = _data_uri(quality_plot_png(curves, report.quality_real_vs_real), "image/png")
    parts.append(f'<img class="plot" id="plot-quality" src="{uri}" alt="Quality during training">')
    return "".join(parts)


def _metric_rows(metrics: dict) -> list:
    primary = metrics["primary_metric"]

    def cell(key: str) -> str:
        value = metrics.get(key)
        if not isinstance(value, (int, float)):
            return "—"
        std = metrics.get(key + "_std")
        return f"{value:.4f}" + (f" ± {std:.4f}" if std is not None else "")

    keys = sorted((key for key, value in metrics.items() if "/" in key
                   and not key.startswith("attributes/")  # their own table
                   and isinstance(value, (int, float)) and not key.endswith(SUFFIXES)),
                  key=lambda key: (key != primary, key))
    return [(f"<b>{_esc(key)}</b> (primary)" if key == primary else _esc(key), cell(key),
             cell(key + "_untrained"), cell(key + "_baseline"), cell(key + "_real_vs_real"))
            for key in keys]


def _real_vs_real_note(metrics: dict) -> str:
    """What the "real vs real" column is: the ceiling the gate's precision and recall limits are
    fractions of."""
    per_side = metrics["num_real_vs_real_images"]
    return (f"<p>Real vs real: {per_side:,} real images scored against {per_side:,} other real "
            "images of the same split: for KID and precision to coverage the same counts as the "
            "model's comparison (a warning below says when they are not); FID at that count. "
            "The gate asks for a fraction of its precision and recall.</p>")


def _attribute_section(report: RunReport) -> str:
    """The per-attribute table (components/gan_evaluator/results.py) and the evaluator's edit
    grid; nothing when no attributes were measured."""
    metrics = report.metrics
    rows = attribute_rows(metrics)
    if not rows:
        return ""
    grid = ""
    if report.evaluator_edit_grid:
        name = _esc(metrics.get(EDIT_GRID_KEY, "?"))
        grid = (f'<figure class="sample-grid edit-grid">'
                f"{_file_img(report.evaluator_edit_grid, f'{name} added')}<figcaption>{name} "
                "added along its direction, more to the right (strength 0 to the edits'); one "
                "face the ruler says lacks it per row. The attribute whose edit flips the most "
                "faces net of the other attributes it changes.</figcaption></figure>")
    if report.evaluator_request_grid:
        names = ", ".join(_esc(name) for name, _ in rows)
        grid += (f'<figure class="sample-grid request-grid">'
                 f"{_file_img(report.evaluator_request_grid, 'faces on request')}<figcaption>"
                 f"Faces on request, a row per attribute ({names}): four faces asked without "
                 "it, then the same four (same z, same other attributes) asked with it."
                 "</figcaption></figure>")
    return ("<h3>Attributes</h3><p>The ruler is a classifier trained on the real train split; "
            "its accuracy is on the real test split, next to the floor of always answering the "
            "commoner value. Edits move z along the attribute's unit direction in z (mean z of "
            "samples with it minus those without): the share of faces without it that have it "
            "after, and the share of other attributes that change.</p>" + _table(
                ["attribute"] + [title for _, title in attribute_columns(metrics)],
                [[_esc(name)] + [f"{value:.3f}" if math.isfinite(value) else "—"
                                 for value in values] for name, values in rows])
            + "".join(f"<p>{_esc(line)}</p>" for line in (fidelity_line(metrics),
                                                          arithmetic_line(metrics)) if line)
            + grid)


def _evaluation_section(report: RunReport) -> str:
    parts = ["<h2>Evaluation</h2>"]
    metrics = report.metrics
    if metrics is None:
        return parts[0] + "<p>The run did not reach the evaluator.</p>"
    baseline = (f"Baseline: the blessed model <code>{_esc(report.baseline_model)}</code>, "
                "scored on the same latent points." if report.baseline_model
                else "No baseline: no blessed model was compared (eval_compare_with_baseline).")
    parts += [f"<p>{metrics['num_generated_images']:,} generated images against "
              f"{metrics['num_real_images']:,} real images of the "
              f"{_esc(metrics['eval_split'])} split. {baseline}</p>",
              _table(["metric", "this model", "untrained generator", "baseline",
                      "real vs real"], _metric_rows(metrics)),
              _real_vs_real_note(metrics),
              _attribute_section(report),
              *(f"<p>warning: {_esc(warning)}</p>" for warning in metrics.get("warnings", [])),
              f"<p>Metrics: <code>{_esc(os.path.join(report.evaluation_dir, METRICS_FILE))}"
              "</code></p>",
              '<figure class="sample-grid evaluator-grid">',
              _file_img(report.evaluator_sample_grid, "evaluator samples"),
              "<figcaption>the evaluated generator's samples</figcaption></figure>"]
    return "".join(parts)


def _verdict(report: RunReport) -> str:
    if report.metrics is None:
        failed = [name for name, state in report.states.items() if state == "FAILED"]
        return (f'<p class="verdict not-blessed">Not evaluated: the run stopped'
                f'{" at " + _esc(", ".join(failed)) if failed else " early"}.</p>')
    if report.metrics["blessed"]:
        where = (f"pushed to <code>{_esc(report.pushed_model)}</code>" if report.pushed_model
                 else "not pushed")
        return f'<p class="verdict blessed">Blessed, {where}.</p>'
    return ('<p class="verdict not-blessed">Not blessed, not pushed: '
            f'{_esc("; ".join(report.metrics["not_blessed_reasons"]))}.</p>')


def _blessing_section(report: RunReport) -> str:
    parts = ["<h2>Blessing and push</h2>", _verdict(report)]
    if report.gate:
        rows = [(_esc(check.description),
                 "—" if check.value is None else f"{check.value:.4f}",
                 '<span class="holds">holds</span>' if check.holds
                 else '<span class="fails">fails</span>') for check in report.gate]
        parts.append(_table(["condition", "value", ""], rows))
    parts.append(f"<p>Pushed model: <code>{_esc(report.pushed_model)}</code></p>"
                 if report.pushed_model else "<p>Pushed model: none from this run.</p>")
    if report.model_dir:
        parts.append(f"<p>Trained model: <code>{_esc(report.model_dir)}</code></p>")
    return "".join(parts)


def render(report: RunReport) -> str:
    title = f"{report.pipeline_name} run {report.run_id}"
    return "".join([
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',  # no favicon request
        f"<title>{_esc(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{_esc(title)}</h1>", _verdict(report),
        _steps_section(report), _data_section(report), _training_section(report),
        _evaluation_section(report), _blessing_section(report),
        "</body></html>\n"])


def write_report(metadata_path: str, output_root: str, run_id: Optional[str] = None,
                 out: Optional[str] = None) -> str:
    """Gathers the run (the latest by default), writes its page and returns the page's path."""
    report = gather(metadata_path, run_id)
    path = out or default_path(output_root, report.pipeline_name, report.run_id)
    if "://" not in path:
        path = os.path.abspath(path)
    io_utils.write_string_file(path, render(report))
    return path
