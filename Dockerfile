# The pipeline's container: every Kubeflow Pipelines / Vertex AI step runs it, and so do the
# Dataflow workers (--sdk_container_image). The base image already holds TFX, TensorFlow, TFT,
# TFDV and Beam, and Beam's worker boot as its ENTRYPOINT (kept: KFP steps set their own command).
#
#   docker build -t gcr.io/your-gcp-project/celeba-dcgan-tfx:latest .
FROM tensorflow/tfx:1.16.0

# TFT works with Keras 2 only; oneDNN's kernels on whatever the CPU (tf_environment.py:
# TFX's entrypoint loads TensorFlow before project code); the project imports from its folder.
ENV TF_USE_LEGACY_KERAS=1 \
    TF_ENABLE_ONEDNN_OPTS=1 \
    PYTHONPATH=/pipeline \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /pipeline

# Only what the base image lacks, at the lock's versions. The image's own TFX stack stays as
# built: replacing it would break the match between its Beam SDK and its worker boot.
COPY requirements.lock /pipeline/requirements.lock
RUN missing=""; \
    for package in pillow scipy dill tf-keras; do \
      python -m pip show --quiet "$package" >/dev/null 2>&1 || missing="$missing $package"; \
    done; \
    if [ -n "$missing" ]; then \
      python -m pip install --no-cache-dir --constraint requirements.lock $missing; \
    fi

COPY . /pipeline

# Fail the build rather than the first run if a module the pipeline names does not import.
RUN python -c "import trainer_module.run, trainer_module.preprocessing, \
components.celeba_example_gen.executor, components.anomaly_gate, \
components.gan_evaluator.executor"
