from celeba_dcgan import legacy_keras  # noqa: F401  (Keras 2 before TensorFlow loads)
