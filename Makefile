# mnistlab: every target sets up what it needs (virtualenv, packages, data, browser) first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DOCS_STAMP := $(VENV)/.docs-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
RUN ?= runs/fashion-mnist
COV_MIN ?= 85
BENCH_ARGS ?=

.PHONY: help install data browser test test-fast faithfulness lint format study bench examples docs clean

help:
	@echo "make test       create .venv, install, make sure the data (and Chromium) are there, run every test with coverage"
	@echo "make test-fast  the unit tests only (no 'slow' or 'browser' tests), for the edit loop"
	@echo "make study      the main job end to end: train, corrupt, predict, evaluate, report ($(RUN))"
	@echo "make docs       build the documentation site (docs/_build/html), warnings as errors"
	@echo "make lint       ruff (lint + format check) and mypy"
	@echo "make bench      run every benchmark under benchmarks/, results in benchmarks/results/ (BENCH_ARGS=--quick)"
	@echo "make faithfulness  the faithfulness checks; their numbers go to docs/_data/faithfulness/"
	@echo "make examples   run the example scripts (quick mode)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[all,dev]"
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

data: install
	@bash scripts/ensure-data.sh $(VENV)/bin/mnistlab

browser:
	@bash scripts/ensure-browser.sh

test: install data browser
	$(PY) -m pytest -n 2 --dist loadgroup --cov=mnistlab --cov-report=term --cov-fail-under=$(COV_MIN) $(PYTEST_ARGS)

test-fast: install data
	$(PY) -m pytest -n 2 --dist loadgroup -m "not slow and not browser" -q $(PYTEST_ARGS)

faithfulness: install data
	MNISTLAB_RECORD=docs/_data/faithfulness $(PY) -m pytest -q -p no:xdist -p no:cacheprovider \
	    tests/morpho/test_morpho_measure.py tests/corrupt/test_faithful.py

lint: install
	$(VENV)/bin/ruff check src tests benchmarks examples scripts docs/conf.py docs/_ext
	$(VENV)/bin/ruff format --check src tests benchmarks examples scripts docs/conf.py docs/_ext
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) scripts/check_private_imports.py

format: install
	$(VENV)/bin/ruff format src tests benchmarks examples
	$(VENV)/bin/ruff check --fix src tests benchmarks examples

study: install data
	$(VENV)/bin/mnistlab study --dataset fashion-mnist --fmnist-c --out $(RUN)

bench: install data
	$(PY) scripts/bench.py $(BENCH_ARGS)

examples: install data
	@for e in examples/*.py; do echo "== $$e"; $(PY) $$e --quick || exit 1; done

$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install -q -e ".[docs]"
	rm -f $(VENV)/.docs-*
	touch $@

docs: $(DOCS_STAMP) data
	$(PY) -m sphinx -W --keep-going -b html -j 1 docs docs/_build/html
	@echo "docs: open docs/_build/html/index.html"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov docs/_build docs/generated docs/auto_examples docs/_gallery_src
