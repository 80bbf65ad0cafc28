"""Shared test set-up: Keras 2 before TensorFlow, quiet TF logs, the repository on sys.path."""
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import legacy_keras  # noqa: E402, F401  (Keras 2 before TensorFlow loads)
