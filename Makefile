.PHONY: setup run test bench

# Both commands create .venv (Python 3.10) and install requirements.lock on first use only.
setup:
	@bash scripts/bootstrap.sh

run: setup
	.venv/bin/python pipeline/run_local.py $(ARGS)

test: setup
	.venv/bin/python -m pytest $(ARGS)
