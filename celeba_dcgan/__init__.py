"""CelebA DCGAN on TFX: the project's one top-level package, so that its generic folder names
(pipeline, components, data, metrics, ...) cannot collide with other projects' packages in the
same environment. Keras 2 is set before TensorFlow loads (legacy_keras.py) by any import of it.
"""
from celeba_dcgan import legacy_keras  # noqa: F401  (Keras 2 before TensorFlow loads)
