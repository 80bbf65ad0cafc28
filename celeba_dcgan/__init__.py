"""CelebA DCGAN on TFX: the project's one top-level package, so that its generic folder names
(pipeline, components, data, metrics, ...) cannot collide with other projects' packages in the
same environment. Any import of it sets Keras 2 and oneDNN before TensorFlow loads
(tf_environment.py).
"""
from celeba_dcgan import tf_environment  # noqa: F401  (set before TensorFlow loads)
