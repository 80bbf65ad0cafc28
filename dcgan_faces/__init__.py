"""Faces in the user's hands: sample and interpolate a trained generator, describe it, and write
a pipeline run's report page. The command line is `dcgan-faces` (dcgan_faces/cli.py)."""

import tf_environment  # noqa: F401, E402  (set before TensorFlow loads)
