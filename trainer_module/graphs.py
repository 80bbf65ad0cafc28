"""tf.function without AutoGraph: how the project traces every graph it runs.

AutoGraph turns Python branches and loops on tensors into graph ops, and to do so converts
every function a traced one calls, unless TensorFlow's do-not-convert list names the function's
package. The list names `keras` but not `tf_keras`, the Keras 2 the project runs
(legacy_keras.py): under plain tf.function each trace rewrote tf_keras's own layer, model and
optimizer code, which branches on Python values only, and that rewriting, not the networks,
took most of a short run's time (README, Tests). None of the project's traced functions
branches or loops on a tensor, so they trace as the Python they are.
"""
import tensorflow as tf


def graph_function(function=None, **options):
    """tf.function(function, autograph=False, **options); `@graph_function` or
    `@graph_function(input_signature=...)` as a decorator."""
    return tf.function(function, autograph=False, **options)
