"""A pipeline run, read back after the fact: its outputs from ML Metadata (run_outputs), the
report's facts (run_report) and its HTML page (report_html).

Runners and the `dcgan-faces` command import this package; it imports neither of them.
"""

import tf_environment  # noqa: F401, E402  (set before TensorFlow loads)
