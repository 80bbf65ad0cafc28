"""The Keras precision policy the Trainer computes in: chosen from the setting and the CPU,
set for the process (run_fn puts it back when it ends: common.process_state_kept)."""

from __future__ import annotations

from tf_environment import onednn_cpu_flags, onednn_line

import typing

import tf_keras as keras

from pipeline_config import Precision

PRECISIONS = typing.get_args(Precision)
PRECISION_POLICIES = tuple(name for name in PRECISIONS if name != "auto")
# CPU flags (/proc/cpuinfo) of bfloat16 arithmetic that oneDNN's convolutions use.
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")


def choose_precision(precision: str, cpu_flags: str, gpus: int) -> tuple[str, str]:
    """(the Keras policy, why): "auto" is mixed_bfloat16 on a CPU with bfloat16 instructions
    (AMX or AVX512_BF16: 1.2x the float32 step on an AMD EPYC with AVX512_BF16, quality within
    float32's own spread over three seeds, docs/quality.md) and float32 elsewhere, GPUs
    included (bfloat16 there is unmeasured); any other value is taken as it is."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    if precision != "auto":
        return precision, "as configured"
    if gpus:
        return "float32", f"auto: {gpus} GPU(s), bfloat16 unmeasured there"
    found = [flag for flag in BF16_CPU_FLAGS if flag in cpu_flags.split()]
    if found:
        return "mixed_bfloat16", f"auto: the CPU has {found[0]}"
    return "float32", f"auto: the CPU has none of {', '.join(BF16_CPU_FLAGS)}"


def set_precision(policy: str) -> None:
    """The Keras policy every layer built afterwards computes in (outputs stay float32)."""
    if policy not in PRECISION_POLICIES:
        raise ValueError(f"precision must be one of {PRECISION_POLICIES}, not {policy!r}")
    keras.mixed_precision.set_global_policy(policy)


def use_precision(precision: str, gpus: int) -> str:
    """Chooses the policy for this CPU (and GPUs), sets it and says which and why; returns it."""
    policy, why = choose_precision(precision, onednn_cpu_flags(), gpus)
    set_precision(policy)
    print(f"Trainer: {onednn_line()}; computes in {policy} ({why})")
    return policy
