"""Keras 2 (tf_keras) for every process of the project, set before TensorFlow loads.

TFT 1.16 and the models here are Keras 2 code; with TF 2.16, `tf.keras` is Keras 3 unless
TF_USE_LEGACY_KERAS is set before TensorFlow is first imported. Every project package imports
this module from its __init__, as common.py does at its top (so any import of project code sets
it first), as do the bench scripts and the tests' conftest; the Docker image sets the same
variable in its environment.
"""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
