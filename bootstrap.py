"""The start-up every entry point calls first, before TensorFlow loads: Keras 2, oneDNN,
TensorFlow's C++ log level and Python's warning filters, set in one place.

Entry points are the local and Kubeflow runners, the `dcgan-faces` command and the benchmark
scripts; library modules set nothing at import. The one exception is what TensorFlow reads when
it loads, Keras 2 and oneDNN (tf_environment.py), which every project package also sets from its
__init__: a TFX executor can start in a process where none of our entry points ran (an
orchestrator's container entrypoint), and TensorFlow reads those variables only once.
"""

from __future__ import annotations

import os
import warnings


def start(verbose: bool = False) -> None:
    """Quiet (the default): TensorFlow's C++ notices hidden (among them the CUDA "Unable to
    register cuFFT/cuDNN/cuBLAS factory" errors on machines without a GPU) and the FutureWarning
    and DeprecationWarning noise of google-cloud, TFX and Beam. Verbose: everything shown. A value
    the environment already sets is kept."""
    import tf_environment  # noqa: F401  (set before TensorFlow loads)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if verbose else "3")
    if not verbose:
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
