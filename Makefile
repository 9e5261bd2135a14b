# koppelwerk: `make run` runs the whole job on the bundled sample, `make test` runs the tests.
# Both set up .venv first (standard-library venv + pip, pinned by requirements.lock).

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster

# The analyst report is checked in a real headless browser: Debian's Chromium and ChromeDriver.
CHROMEDRIVER := /usr/bin/chromedriver
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

SAMPLE_ARGS := --bag sample/bag.parquet --connections sample/connections.csv \
               --consumption sample/consumption.parquet

.PHONY: setup browser run test sample dev lock clean

setup: $(INSTALLED)

$(INSTALLED): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

browser: $(CHROMEDRIVER)

$(CHROMEDRIVER):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver

run: setup
	$(BIN)/koppelwerk run $(SAMPLE_ARGS) --out out/sample

test: setup browser
	$(BIN)/python -m pytest

# Regenerate the bundled sample (tests check it still equals what synth makes for this seed).
sample: setup
	rm -rf sample && $(BIN)/koppelwerk synth --objects 5000 --seed 2026 --out sample --connections-format csv

# Dagster UI with run history, schedules and sensors on http://127.0.0.1:3000
dev: setup
	$(BIN)/dagster dev -m pipelines.definitions -h 127.0.0.1 -p 3000

# Re-resolve the pinned dependency set after editing pyproject.toml (needs network to PyPI).
lock: setup
	$(BIN)/pip install --quiet uv && $(BIN)/uv pip compile --python-version 3.11 --extra dev pyproject.toml -o requirements.lock

clean:
	rm -rf $(VENV) out .dagster .pytest_cache
