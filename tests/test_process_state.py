"""No component leaves process-global state behind for the next one: the local runner runs them
all in one process (common.process_state_kept)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = Path(__file__).resolve().parent / "component_sequence_worker.py"


def worker(root: Path, mode: str) -> tuple:
    """(the printed lines, the evaluator's metrics) of one worker process."""
    done = subprocess.run(
        [sys.executable, str(WORKER), str(root), mode], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    (metrics,) = [
        json.loads(line[len("METRICS ") :]) for line in lines if line.startswith("METRICS ")
    ]
    return lines, metrics


@pytest.mark.slow
def test_a_bfloat16_trainer_leaves_the_evaluator_in_one_process_as_it_would_be_alone(tmp_path):
    """The Trainer in mixed_bfloat16, then the evaluator in the same process, scores the model
    exactly as the evaluator alone in a fresh process does, and the policy is float32 again
    after each. Without the fix the policy stayed mixed_bfloat16: here the evaluator's untrained
    generator was built in bfloat16 (its FD 188.0589 against 188.0665 alone, 2026-12-07), and in
    a full pipeline run the evaluator failed (bfloat16 layers against float32 tensors)."""
    after_the_trainer, metrics = worker(tmp_path, "train-then-evaluate")
    assert "POLICY after the Trainer: float32" in after_the_trainer
    assert "POLICY after the evaluator: float32" in after_the_trainer
    _, alone = worker(tmp_path, "evaluate")
    assert metrics.keys() == alone.keys() and len(metrics) > 20
    assert metrics == alone
