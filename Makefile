.PHONY: setup browser run lint test test-all bench-train quality-curve flink-install flink-start flink-stop

# Both commands create .venv (Python 3.10) and install requirements.lock on first use only.
setup:
	@bash scripts/bootstrap.sh

# Debian's chromium for the report page test, installed once (apt-get, as root).
browser:
	@bash scripts/install_browser.sh

run: setup
	.venv/bin/python pipeline/run_local.py $(ARGS)

# Lint and format check (ruff, configured in pyproject.toml): zero findings, or the tests do not run.
lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

# The fast tier: everything but the tests marked slow (whole-pipeline runs, fault sequences,
# multi-process training); docs/tests.md.
test: lint browser
	.venv/bin/python -m pytest -m "not slow" $(ARGS)

# Every test, the slow tier included: what CI runs (.ci/run).
test-all: lint browser
	.venv/bin/python -m pytest $(ARGS)

# Train-step speed against the seed's Keras code and the PyTorch twin (in its own Python 3.11 venv).
bench-train: setup
	@test -x .venv-torch/bin/python || { py311=$$(ls -d $$HOME/.pyenv/versions/3.11*/bin/python3 2>/dev/null | head -1); \
	  $${py311:-python3.11} -m venv .venv-torch && .venv-torch/bin/pip install --quiet torch==2.13.0 numpy; }
	.venv/bin/python bench/train_speed.py $(ARGS)

# Quality against steps on the built-in faces (docs/quality.md); long: run it in the background.
quality-curve: setup
	.venv/bin/python bench/quality_curve.py run --name default $(ARGS)

# A local standalone Flink 1.20 cluster (docs/scale.md): installed once outside .venv, 2 slots.
flink-install:
	@bash scripts/flink_cluster.sh install
flink-start:
	@bash scripts/flink_cluster.sh start
flink-stop:
	@bash scripts/flink_cluster.sh stop
