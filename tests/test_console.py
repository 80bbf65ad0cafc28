"""The local runner's console: one line per component, the progress bar, the summary; library
chatter only with --verbose."""

import io
import logging

import pytest

from pipeline import console

NOISE = (
    "cuFFT",
    "cuDNN",
    "property_predicate",
    "payload_format",
    "FutureWarning",
    "DeprecationWarning",
    "WARNING:tensorflow",
    "is deprecated",
)


def record(message: str, level=logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("absl", level, __file__, 1, message, None, None)


def test_tfx_component_events_become_one_line_each_with_the_time():
    out = io.StringIO()
    lines = console.ComponentLines(out)
    for message in (
        "Component Trainer is running.",
        "Trainer: something else",
        "Component Trainer is finished.",
    ):
        lines.emit(record(message))
    assert out.getvalue().splitlines()[0] == "Trainer ..."
    assert out.getvalue().splitlines()[1].startswith("Trainer done in ")
    assert len(out.getvalue().splitlines()) == 2


def test_component_lines_only_while_the_runner_runs(capsys):
    """Tests and notebooks call the runner more than once in one process: the lines go to the
    sys.stdout of that moment, once each, and stop with the run."""
    console.set_up(verbose=False)
    with console.component_lines(verbose=False):
        logging.getLogger("absl").info("Component Pusher is running.")
    logging.getLogger("absl").info("Component Pusher is running.")
    assert capsys.readouterr().out == "Pusher ...\n"


def test_only_the_known_harmless_warnings_are_dropped():
    assert not console._drop_known_harmless(
        record("ArtifactQuery.property_predicate is not supported.", logging.WARNING)
    )
    assert console._drop_known_harmless(record("disk almost full", logging.WARNING))


@pytest.mark.slow
def test_a_run_prints_component_lines_and_its_summary_and_no_library_noise(tiny_command_run):
    """The shared tiny run, started as `make run` starts the pipeline (the runner's
    run_and_report, console set up without --verbose)."""
    root, attempt = tiny_command_run
    text = "\n".join(line for _, line in attempt.lines) + "\n" + attempt.stderr_path.read_text()
    above_summary = text.split("\nRun ")[0].splitlines()
    for component in ("CelebAExampleGen", "Transform", "Trainer", "GanEvaluator", "Pusher"):
        assert any(line.startswith(f"{component} done in ") for line in above_summary), component
    assert not [line for line in above_summary if any(noise in line for noise in NOISE)]
    progress_bar = [line for line in above_summary if "d_loss" in line]
    assert len(above_summary) - len(progress_bar) <= 30, "\n".join(above_summary)
