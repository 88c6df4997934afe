# The two commands a newcomer needs: `make run` and `make test`.
# Each creates .venv on first use and installs the package from this folder.
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8000
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: run test test-postgres test-dates lint bench screenshots clean browser translations

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

# Two workers (pytest-xdist) on this 2-core kind of machine; PYTEST_ARGS="-n 0" runs in
# one process, PYTEST_ARGS="-n 4" on a bigger one.
test: $(STAMP) browser $(AXE)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

TEST_WORKERS ?= 2

# The whole suite on a throwaway PostgreSQL (installed from Debian's packages as root).
test-postgres: $(STAMP) browser $(AXE)
	.ci/with-postgres $(MAKE) --no-print-directory test

# The clock-sensitive tests under libfaketime at dates and zones far apart (Debian's
# faketime package): a year end in Kiribati, 29 February in Honolulu, a daylight-saving
# night in Brussels.
FAKETIME_LIB = /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
test-dates: $(STAMP)
	@test -f $(FAKETIME_LIB) || { echo "libfaketime is missing: apt-get install faketime"; exit 2; }
	for at in "2027-12-31 23:59:30|Pacific/Kiritimati" "2028-02-29 08:00:00|Pacific/Honolulu" \
	          "2027-03-28 00:59:00|Europe/Brussels" "2026-12-28 12:00:00|Asia/Kathmandu"; do \
	  echo "== FAKETIME=@$${at%|*} TZ=$${at#*|}"; \
	  FAKETIME="@$${at%|*}" FAKETIME_DONT_FAKE_MONOTONIC=1 LD_PRELOAD=$(FAKETIME_LIB) \
	    TZ="$${at#*|}" $(BIN)/python -m pytest -q -n $(TEST_WORKERS) $(DATE_TESTS) || exit 1; \
	done

DATE_TESTS = tests/core/test_clock.py tests/reach/test_reports.py \
	tests/worker/test_schedule_web.py tests/social/test_social_plan.py \
	tests/worker/test_scheduler.py tests/worker/test_jobs.py \
	tests/newsletter/test_newsletter.py tests/readers/test_subscribers.py \
	tests/social/test_social_publish.py tests/whole/test_cycle.py tests/web/test_security.py \
	tests/reach/test_reach.py tests/social/test_social_metrics.py \
	tests/readers/test_embed_form.py tests/readers/test_moving_in.py \
	tests/mail/test_domain_check.py tests/social/test_social_media.py \
	tests/social/test_issue_out.py tests/registry/test_handles.py tests/web/test_cache.py

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

# The service's words in every shipped language (docs/translations.md): extract what the
# code and the templates say, merge it into each catalogue, compile them (the application
# also compiles a changed catalogue into var/translations/ when it starts).
LANGS = nl fr de es it
CATALOGUES = ostogether/translations
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k _nl:1,2 -k lazy_ngettext:1,2 --no-location \
	  --sort-output --project=ostogether --copyright-holder="the OStogether authors" \
	  -o $(CATALOGUES)/messages.pot .
	for l in $(LANGS); do \
	  if [ -f $(CATALOGUES)/$$l/LC_MESSAGES/messages.po ]; then \
	    $(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -N \
	      -i $(CATALOGUES)/messages.pot -d $(CATALOGUES) -l $$l; \
	  else $(BIN)/pybabel init -i $(CATALOGUES)/messages.pot -d $(CATALOGUES) -l $$l; fi; \
	done
	$(BIN)/pybabel compile --statistics -d $(CATALOGUES)

lint: $(STAMP)
	$(BIN)/ruff check ostogether tests benchmarks docs/screenshots.py
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/feeds.py
	$(BIN)/python benchmarks/newsletter.py
	$(BIN)/python benchmarks/delivery.py
	@if ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then \
	  .ci/with-postgres $(BIN)/python benchmarks/delivery_pg.py; \
	else echo "delivery on PostgreSQL: skipped (Debian's postgresql is not installed)"; fi
	$(BIN)/python benchmarks/load.py

# Needs Debian's chromium (apt-get install chromium); never downloads a browser.
screenshots: $(STAMP)
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
