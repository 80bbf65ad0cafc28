"""The few names and helpers several parts of the project share and none of them owns.

It sits at the bottom of the imports with `metrics/`: ExampleGen, Transform, the Trainer, the
evaluator, the report and the CLI import it, and it imports none of them.

- The pipeline's component ids: the runners, the report and the benchmarks find a run's outputs
  by them (pipeline/pipeline.py gives each component its id).
- Feature keys: how CelebAExampleGen names the attribute features and how Transform's output
  names the image, read by the Trainer and the evaluator.
- The Trainer's output folders and TensorBoard tags, read back by the run report.
- `graph_function`: how every graph is traced (tf.function without AutoGraph).
- `read_whole`: settings read back from a component's properties, all or nothing.
- `process_state_kept`: what a component sets for the whole process, put back when it ends.
"""

from __future__ import annotations

import tf_environment  # noqa: F401  (set before TensorFlow loads)

import contextlib
import dataclasses
import json
import random
import typing

# Component ids, in the DAG's order.
EXAMPLE_GEN = "CelebAExampleGen"
STATISTICS_GEN = "StatisticsGen"
SCHEMA_GEN = "ImportSchemaGen"
EXAMPLE_VALIDATOR = "ExampleValidator"
ANOMALY_GATE = "AnomalyGate"
TRANSFORM = "Transform"
TRAINER = "Trainer"
BASELINE_RESOLVER = "latest_blessed_model_resolver"
EVALUATOR = "GanEvaluator"
PUSHER = "Pusher"

# Features of the examples.
IMAGE_KEY = "image"
ATTRIBUTE_PREFIX = "attr_"  # attribute features are attr_<Name>, from ExampleGen to the Trainer
UNKNOWN_ATTRIBUTE = -1  # an attribute a row does not state

# What the Trainer leaves in its model_run folder (read back by reporting/run_report.py).
TENSORBOARD_DIR = "tensorboard"
SAMPLES_DIR = "samples"  # the grids after every epoch, and:
PROGRESS_GIF = "progress.gif"
# TensorBoard tags of the quality probe: quality/<metric>, quality/probe_seconds, and the
# real-vs-real ceiling quality_real_vs_real/<metric> at step 0.
QUALITY_PREFIX = "quality/"
REAL_VS_REAL_PREFIX = "quality_real_vs_real/"
PROBE_SECONDS = QUALITY_PREFIX + "probe_seconds"


def graph_function(function=None, **options):
    """tf.function(function, autograph=False, **options); `@graph_function` or
    `@graph_function(input_signature=...)` as a decorator.

    AutoGraph turns Python branches and loops on tensors into graph ops, and to do so converts
    every function a traced one calls, unless TensorFlow's do-not-convert list names the
    function's package. The list names `keras` but not `tf_keras`, the Keras 2 the project runs
    (tf_environment.py): under plain tf.function each trace rewrote tf_keras's own layer, model
    and optimizer code, which branches on Python values only, and that rewriting, not the
    networks, took most of a short run's time (docs/tests.md). None of the project's traced
    functions branches or loops on a tensor, so they trace as the Python they are.
    """
    import tensorflow as tf  # here: the names above are read without loading TensorFlow

    return tf.function(function, autograph=False, **options)


@contextlib.contextmanager
def process_state_kept():
    """Runs a component's work, then puts back what it may have set for the whole process: Keras'
    precision policy and the Python and NumPy random generators. Also a decorator.

    The local runner runs every component in one process, one after the other. A Trainer that
    set the mixed_bfloat16 policy left it to the evaluator, which then built its untrained
    generator in bfloat16 and scored another floor than alone (tests/test_process_state.py),
    or failed mixing bfloat16 and float32 tensors. On a cluster each component is a process of
    its own and this changes nothing. TensorFlow's global seed has no public getter to restore
    it by: the components that draw at random seed themselves first (the Trainer, the
    evaluator's untrained generator and attribute ruler).
    """
    import numpy as np
    import tf_keras as keras

    policy = keras.mixed_precision.global_policy()
    python_random, numpy_random = random.getstate(), np.random.get_state()
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(policy)
        random.setstate(python_random)
        np.random.set_state(numpy_random)


def check_choices(settings) -> None:
    """Every field of a settings dataclass typed as a Literal holds one of its values; else one
    line naming the field and the values allowed. Called when the settings are built, so a
    mistyped choice stops the pipeline's build, not a component minutes into the run."""
    hints = typing.get_type_hints(type(settings))
    for field in dataclasses.fields(settings):
        hint = hints[field.name]
        if typing.get_origin(hint) is typing.Literal:
            value = getattr(settings, field.name)
            if value not in typing.get_args(hint):
                raise ValueError(
                    f"{field.name} must be one of {typing.get_args(hint)}, not {value!r}"
                )


def settings_as_dict(settings) -> dict:
    """A settings dataclass as plain JSON values (tuples as lists): what every component stores
    in its exec properties, whatever carries it (a JSON string, the Trainer's custom_config, a
    protobuf Struct). `read_whole` reads it back."""
    return json.loads(json.dumps(dataclasses.asdict(settings)))


def read_whole(settings_class, values: dict, built_by: str):
    """`settings_class(**values)` from `settings_as_dict`'s values (or a Struct's), refusing
    missing and unknown names with one clear error: a setting renamed or dropped on one side must
    not fall back to a default on the other. Each value comes back as its field's type: lists as
    tuples (at every depth), whole floats as ints (a Struct holds every number as a float)."""
    names = {field.name for field in dataclasses.fields(settings_class)}
    missing, unknown = names - set(values), set(values) - names
    if missing or unknown:
        raise ValueError(
            f"stored settings do not match {settings_class.__name__}: missing "
            f"{sorted(missing)}, unknown {sorted(unknown)}; build them with "
            f"{built_by}"
        )
    hints = typing.get_type_hints(settings_class)
    return settings_class(**{name: _as_type(hints[name], values[name]) for name in names})


def _as_type(hint, value):
    if isinstance(value, list):
        return tuple(_as_type(None, item) for item in value)
    if hint is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
