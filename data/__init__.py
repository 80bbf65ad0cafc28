import tf_environment  # noqa: F401  (set before TensorFlow loads)
