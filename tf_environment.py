"""What TensorFlow reads once, when it first loads, set for every process of the project.

- Keras 2 (TF_USE_LEGACY_KERAS=1): TFT 1.16 and the models here are Keras 2 code; with TF 2.16,
  `tf.keras` is Keras 3 unless the variable is set before TensorFlow is first imported.
- oneDNN's kernels (TF_ENABLE_ONEDNN_OPTS=1, on x86-64): TensorFlow's Linux wheels turn them on
  by default only on CPUs with AVX512-VNNI, AVX512-BF16, AVX-VNNI or AMX. On any other x86 CPU
  (AVX2-only ones, such as AMD EPYC before Zen 4 and many laptops) convolutions and their
  gradients take Eigen's path instead, which made the train step 2.8x slower than oneDNN
  with the same AVX2 kernels (docs/trainer.md#on-avx2-cpus). oneDNN picks its kernels by the
  CPU it finds at run time, so on is right on every x86-64 CPU. Other architectures keep
  TensorFlow's own default.

A value the environment already sets is kept (TF_ENABLE_ONEDNN_OPTS=0 turns oneDNN off, as in
TensorFlow). Every project package imports this module from its __init__, as common.py does at
its top (so any import of project code sets both first), as do the bench scripts and the tests'
conftest; the Docker image sets the same variables in its environment, since a TFX container
entrypoint loads TensorFlow before it imports project code.
"""

import os
import platform

X86_64 = platform.machine().lower() in ("x86_64", "amd64")

# name -> value, each set unless the environment already sets it.
VARIABLES = {"TF_USE_LEGACY_KERAS": "1", **({"TF_ENABLE_ONEDNN_OPTS": "1"} if X86_64 else {})}

for _name, _value in VARIABLES.items():
    os.environ.setdefault(_name, _value)


def onednn_line() -> str:
    """One line for a log: whether TensorFlow's oneDNN kernels are on in this process (it reads
    the setting when it loads), and the instruction set oneDNN uses."""
    from tensorflow.python.util import _pywrap_util_port

    if _pywrap_util_port.IsMklEnabled():
        return f"oneDNN kernels on ({cpu_instruction_set()})"
    reason = (
        "TF_ENABLE_ONEDNN_OPTS=" + os.environ["TF_ENABLE_ONEDNN_OPTS"]
        if "TF_ENABLE_ONEDNN_OPTS" in os.environ
        else "TensorFlow's default on this CPU"
    )
    return f"oneDNN kernels off ({reason}): convolutions take Eigen's slower path"


def cpu_instruction_set() -> str:
    """The newest of the CPU's vector and matrix instruction sets that oneDNN uses, as Linux
    lists them ('unknown' elsewhere); ONEDNN_MAX_CPU_ISA, when set, caps what oneDNN uses."""
    flags = cpuinfo_field("flags").split()
    newest = next(
        (name for name in ("amx_bf16", "avx512_bf16", "avx512f", "avx2", "avx") if name in flags),
        "unknown",
    )
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA")
    return f"{newest}, capped at {cap}" if cap else newest


def onednn_cpu_flags() -> str:
    """The CPU's flags less those oneDNN may not use under ONEDNN_MAX_CPU_ISA: capped at AVX2
    (how an AVX2-only CPU is measured on a newer one), a CPU with AVX512_BF16 behaves as one
    without it, so the choices made from these flags (trainer_module/precision.py:choose_precision)
    are those of the CPU being imitated."""
    flags = cpuinfo_field("flags").split()
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper()
    if cap in ("", "ALL", "DEFAULT"):
        return " ".join(flags)
    bfloat16 = any(kind in cap for kind in ("BF16", "FP16", "AVX10", "AMX"))
    return " ".join(
        flag
        for flag in flags
        if not (flag.startswith("amx") and "AMX" not in cap)
        and not (flag == "avx512_bf16" and not bfloat16)
        and not (flag.startswith("avx512") and "512" not in cap)
    )


def cpuinfo_field(name: str) -> str:
    """The first value of `name` in /proc/cpuinfo ("flags", "model name"); "" where there is
    none (not Linux)."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return next(
                (
                    line.split(":", 1)[1].strip()
                    for line in cpuinfo
                    if line.split(":", 1)[0].strip() == name
                ),
                "",
            )
    except OSError:
        return ""
