"""What the project sets before TensorFlow loads (tf_environment.py), checked in
fresh processes, since TensorFlow reads it only once: Keras 2, and oneDNN's kernels on for every
x86-64 CPU, not only for those TensorFlow picks by default (AVX512-VNNI, AVX512-BF16, AVX-VNNI,
AMX). On an AVX2-only CPU that default left the train step on Eigen's path, 2.8x slower.
"""

import tf_environment

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not tf_environment.X86_64,
    reason="this machine lacks an x86-64 CPU: oneDNN is set on x86-64 only",
)

PROBE = """
import json, os
import tf_environment  # before TensorFlow, as every entry point and executor does
import tensorflow as tf
from tensorflow.python.util import _pywrap_util_port
from tf_environment import onednn_line
images = tf.random.uniform([2, 16, 16, 3])
tf.nn.conv2d(images, tf.random.uniform([4, 4, 3, 8]), 2, "SAME").numpy()
print(json.dumps({"onednn": _pywrap_util_port.IsMklEnabled(), "line": onednn_line(),
                  "keras": tf.keras.layers.Dense.__module__.split(".")[0],
                  "variables": {name: os.environ.get(name)
                                for name in ("TF_USE_LEGACY_KERAS", "TF_ENABLE_ONEDNN_OPTS")}}))
"""


def probe(**environment):
    """Runs PROBE in a new Python with the project's variables unset, then `environment`; returns
    its JSON line and the oneDNN verbose lines (ONEDNN_VERBOSE=1) of the convolution."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in tf_environment.VARIABLES and not name.startswith("ONEDNN_")
    }
    env.update(PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3", ONEDNN_VERBOSE="1", **environment)
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    convolutions = [
        line
        for line in lines
        if line.startswith("onednn_verbose") and ",exec,cpu,convolution," in line
    ]
    return json.loads(lines[-1]), convolutions


def test_importing_the_project_turns_on_keras_2_and_onednn_before_tensorflow_loads():
    seen, convolutions = probe()
    assert seen["variables"] == {"TF_USE_LEGACY_KERAS": "1", "TF_ENABLE_ONEDNN_OPTS": "1"}
    assert seen["keras"] == "tf_keras"  # Keras 2
    assert seen["onednn"] is True and seen["line"].startswith("oneDNN kernels on (")
    assert convolutions, "the convolution did not run on oneDNN's kernels"


@pytest.mark.skipif(
    "avx2" not in tf_environment.cpuinfo_field("flags").split(),
    reason="this machine lacks AVX2: it cannot run AVX2 kernels",
)
def test_on_an_avx2_only_cpu_the_convolution_runs_on_onednns_avx2_kernels():
    """ONEDNN_MAX_CPU_ISA=AVX2 limits oneDNN to what an AVX2-only CPU offers (on an AVX-512
    machine this is how the AVX2 machines' path is measured: docs/trainer.md#on-avx2-cpus)."""
    seen, convolutions = probe(ONEDNN_MAX_CPU_ISA="AVX2")
    assert seen["onednn"] is True and "capped at AVX2" in seen["line"]
    assert convolutions and all(":avx2," in line for line in convolutions), convolutions


def test_an_explicit_off_is_kept_and_said():
    seen, convolutions = probe(TF_ENABLE_ONEDNN_OPTS="0")
    assert seen["variables"]["TF_ENABLE_ONEDNN_OPTS"] == "0"
    assert seen["onednn"] is False and convolutions == []
    assert seen["line"].startswith("oneDNN kernels off (TF_ENABLE_ONEDNN_OPTS=0)")


@pytest.mark.parametrize(
    "cap, kept",
    [
        ("", "avx2 avx512f avx512_bf16 amx_bf16 amx_tile"),
        ("AVX2", "avx2"),
        ("AVX512_CORE", "avx2 avx512f"),
        ("AVX512_CORE_BF16", "avx2 avx512f avx512_bf16"),
        ("AVX512_CORE_AMX", "avx2 avx512f avx512_bf16 amx_bf16 amx_tile"),
    ],
)
def test_under_a_onednn_cap_the_cpu_flags_are_those_of_the_cpu_imitated(monkeypatch, cap, kept):
    """Capped at AVX2 (how an AVX2-only CPU is measured here), precision="auto" must choose as
    on an AVX2-only CPU: float32."""
    from trainer_module.precision import choose_precision

    monkeypatch.setattr(
        tf_environment,
        "cpuinfo_field",
        lambda name: "fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile",
    )
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)
    flags = tf_environment.onednn_cpu_flags()
    assert flags == "fpu " + kept
    policy, _ = choose_precision("auto", flags, gpus=0)
    assert policy == ("mixed_bfloat16" if "bf16" in kept else "float32")
