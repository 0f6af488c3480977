# mnistlab: every target sets up what it needs (virtualenv, packages, data) first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
RUN ?= runs/fashion-mnist
COV_MIN ?= 85

.PHONY: help install data test lint format study bench examples clean

help:
	@echo "make test      create .venv, install, make sure the data is there, run the tests with coverage"
	@echo "make study     the main job end to end: train, corrupt, predict, evaluate, report ($(RUN))"
	@echo "make lint      ruff (lint + format check) and mypy"
	@echo "make bench     run every benchmark under benchmarks/"
	@echo "make examples  run the example scripts (quick mode)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[all,dev]"
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

data: install
	@bash scripts/ensure-data.sh $(VENV)/bin/mnistlab

test: install data
	$(PY) -m pytest -n 2 --dist loadgroup --cov=mnistlab --cov-report=term --cov-fail-under=$(COV_MIN) $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format src tests benchmarks examples
	$(VENV)/bin/ruff check --fix src tests benchmarks examples

study: install data
	$(VENV)/bin/mnistlab study --dataset fashion-mnist --fmnist-c --out $(RUN)

bench: install data
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

examples: install data
	@for e in examples/*.py; do echo "== $$e"; $(PY) $$e --quick || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
