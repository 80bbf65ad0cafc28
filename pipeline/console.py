"""What the local runner prints: one line per component with its time, the Trainer's progress
bar, the summary. Library chatter is shown only with --verbose.

Quiet mode hides, on purpose:
- TensorFlow's C++ logs (TF_CPP_MIN_LOG_LEVEL=3), among them the CUDA "Unable to register
  cuFFT/cuDNN/cuBLAS factory" errors TensorFlow prints on machines without a GPU;
- Python warnings (FutureWarning and DeprecationWarning from google-cloud and TFX);
- INFO logs of absl, TFX and Beam, and WARNING logs of the `tensorflow` logger (deprecation
  notices of TF's own internals);
- two absl warnings TFX 1.16 repeats for every component and every Examples artifact and that
  change nothing here (KNOWN_HARMLESS).
TFX's "Component X is running/finished" INFO lines become the per-component lines.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import time

import bootstrap

KNOWN_HARMLESS = (
    # LocalDagRunner's input resolution on the SQLite store: the predicate is not needed there.
    "property_predicate is not supported",
    # Examples written by our ExampleGen are tf.Examples, TFX's fallback is the right format.
    "does not have payload_format custom property",
)
COMPONENT_EVENT = re.compile(r"Component (\S+) is (running|finished)\.$")


def set_up(verbose: bool) -> None:
    """Call before TensorFlow is imported (its C++ log level is read once, at load)."""
    bootstrap.start(verbose)
    if verbose:
        logging.basicConfig(level=logging.INFO)
        _absl().set_verbosity(_absl().INFO)
        return
    logging.basicConfig(level=logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.WARNING)  # INFO records still reach ComponentLines below
        handler.addFilter(_drop_known_harmless)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    _absl().set_verbosity(_absl().INFO)  # TFX's component events reach component_lines()


@contextlib.contextmanager
def component_lines(verbose: bool):
    """While the runner runs: TFX's component events as one line each (quiet mode only; in
    verbose mode TFX's own INFO lines say the same)."""
    if verbose:
        yield
        return
    handler = ComponentLines()
    logging.getLogger("absl").addHandler(handler)
    try:
        yield
    finally:
        logging.getLogger("absl").removeHandler(handler)


def _absl():
    from absl import logging as absl_logging

    return absl_logging


def _drop_known_harmless(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    return not any(text in message for text in KNOWN_HARMLESS)


class ComponentLines(logging.Handler):
    """'Trainer ...' when TFX starts a component, 'Trainer done in 612 s' when it ends."""

    def __init__(self, stream=None):
        super().__init__(level=logging.INFO)
        self.stream = stream  # None: whatever sys.stdout is when a line is printed
        self.started = {}

    def emit(self, record: logging.LogRecord) -> None:
        match = COMPONENT_EVENT.match(record.getMessage())
        if not match:
            return
        name, event = match.groups()
        if event == "running":
            self.started[name] = time.perf_counter()
            print(f"{name} ...", file=self.stream or sys.stdout, flush=True)
        else:
            seconds = time.perf_counter() - self.started.pop(name, time.perf_counter())
            print(f"{name} done in {seconds:.0f} s", file=self.stream or sys.stdout, flush=True)
