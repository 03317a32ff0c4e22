# The README's two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEV    := $(VENV)/.installed-dev
LINTED := src tests $(wildcard bench)
# The tests run the diffusers code on CPU with tiny models. Where the machine's wheel cache has
# torch's CPU build, install it first so pip does not fetch the multi-gigabyte CUDA build.
TORCH_CPU := $(firstword $(wildcard /opt/wheels/torch-*+cpu-*.whl))

.PHONY: run test install install-dev lint typecheck pytest bench clean format

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e .
	touch $(STAMP)

$(DEV): $(STAMP)
	$(if $(TORCH_CPU),$(BIN)/python -m pip install -q '$(TORCH_CPU)')
	$(BIN)/python -m pip install -q -e '.[dev,diffusers]'
	touch $(DEV)

install: $(STAMP)
install-dev: $(DEV)

run: install
	$(BIN)/atelier serve

lint: install-dev
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/ruff check $(LINTED)

typecheck: install-dev
	$(BIN)/mypy

pytest: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

format: install-dev
	$(BIN)/ruff format $(LINTED)
	$(BIN)/ruff check --fix $(LINTED)

bench: install-dev
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
