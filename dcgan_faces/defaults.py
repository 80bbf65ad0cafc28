"""What the command line and the studio share, in a module that loads nothing heavy: the
command line reads it before it decides whether TensorFlow is needed at all."""

PROG = "dcgan-faces"
MAX_SEED = 2**63 - 1  # the generator's `sample` signature takes an int64 seed
STUDIO_HOST, STUDIO_PORT = "127.0.0.1", 8000  # `serve`: this machine only, unless told
