# The two commands a newcomer needs: `make run` and `make test`.
# Each creates .venv on first use and installs the package from this folder.
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8000
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: run test lint bench screenshots clean browser

# The browser tests drive Debian's chromium (never a downloaded browser) and inject
# axe-core from the npm registry; `make test` puts both in place when it can.
AXE_VERSION = 4.14.1
AXE = $(VENV)/axe/axe.min.js

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/ostogether init
	$(BIN)/ostogether serve --port $(PORT)

test: $(STAMP) browser $(AXE)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "== installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium is missing and cannot be installed here (not root): the browser tests will be skipped"; \
	  fi; \
	fi

$(AXE):
	mkdir -p $(VENV)/axe
	cd $(VENV)/axe && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && \
	  tar -xzf axe-core-$(AXE_VERSION).tgz --strip-components=1 package/axe.min.js || \
	  echo "npm could not fetch axe-core: the accessibility tests will be skipped"

lint: $(STAMP)
	$(BIN)/ruff check ostogether tests benchmarks docs/screenshots.py
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/feeds.py
	$(BIN)/python benchmarks/newsletter.py
	$(BIN)/python benchmarks/delivery.py
	$(BIN)/python benchmarks/load.py

# Needs Debian's chromium (apt-get install chromium); never downloads a browser.
screenshots: $(STAMP)
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
