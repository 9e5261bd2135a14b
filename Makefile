# koppelwerk: `make run` runs the whole job on the bundled sample, `make test` runs the tests.
# Both set up .venv first (standard-library venv + pip): `make run` installs only the runtime set
# (requirements/runtime.lock), `make test` adds the dev tools (requirements/dev.lock); both locked
# with hashes.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEV_INSTALLED := $(VENV)/.dev-installed
# The wheel check builds and installs the package outside the checkout.
WHEEL_CHECK := $(or $(TMPDIR),/tmp)/koppelwerk-wheel-check
export DAGSTER_HOME ?= $(CURDIR)/.dagster

# The analyst report is checked in a real headless browser: Debian's Chromium and ChromeDriver.
CHROMEDRIVER := /usr/bin/chromedriver
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

SAMPLE_ARGS := --bag sample/bag.parquet --connections sample/connections.csv \
               --consumption sample/consumption.parquet

.PHONY: setup dev-setup browser java run test test-fast lint wheel-check sample dev lock clean

setup: $(INSTALLED)

$(INSTALLED): requirements/runtime.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements/runtime.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

dev-setup: $(DEV_INSTALLED)

$(DEV_INSTALLED): $(INSTALLED) requirements/dev.lock
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.lock
	touch $@

browser: $(CHROMEDRIVER)

$(CHROMEDRIVER):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver

# pyspark (the dev extra; the Spark scoring tests, tests/test_spark_scoring.py) needs a Java 17
# runtime: Debian's OpenJDK 17, installed only when no `java` is on PATH.
java:
	@command -v java >/dev/null || { $(SUDO) apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; }

run: setup
	$(BIN)/koppelwerk run $(SAMPLE_ARGS) --out out/sample

# The tests run in TEST_WORKERS processes side by side (pytest-xdist), a test module to a process,
# so that a module's shared runs are made once; TEST_WORKERS=0 runs them in this one process.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest --numprocesses $(TEST_WORKERS) --dist loadfile

test: lint browser java
	$(PYTEST)

# The fast tier only: every test but those that run the whole job.
test-fast: lint java
	$(PYTEST) -m "not e2e"

# Lint, format, layering and types: configured in pyproject.toml.
lint: dev-setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# Build the wheel, install it with the runtime lock into a fresh venv and run the sample from
# outside the checkout: what a user who installs the package gets.
wheel-check: setup
	rm -rf $(WHEEL_CHECK) && mkdir -p $(WHEEL_CHECK)
	$(BIN)/pip wheel --quiet --no-deps -w $(WHEEL_CHECK) .
	$(PYTHON) -m venv $(WHEEL_CHECK)/venv
	$(WHEEL_CHECK)/venv/bin/pip install --quiet --upgrade pip
	$(WHEEL_CHECK)/venv/bin/pip install --quiet --require-hashes -r requirements/runtime.lock
	$(WHEEL_CHECK)/venv/bin/pip install --quiet --no-deps $(WHEEL_CHECK)/koppelwerk-*.whl
	cd $(WHEEL_CHECK) && DAGSTER_HOME=$(WHEEL_CHECK)/dagster venv/bin/koppelwerk run \
	    --bag $(CURDIR)/sample/bag.parquet --connections $(CURDIR)/sample/connections.csv \
	    --consumption $(CURDIR)/sample/consumption.parquet --out $(WHEEL_CHECK)/out --data-dir $(WHEEL_CHECK)/data
	test -f $(WHEEL_CHECK)/out/public/sector_energy_statistics.parquet

# Regenerate the bundled sample (tests check it still equals what synth makes for this seed).
sample: setup
	rm -rf sample && $(BIN)/koppelwerk synth --objects 5000 --seed 2026 --out sample --connections-format csv

# Dagster UI with run history, schedules and sensors on http://127.0.0.1:3000
dev: setup
	mkdir -p $(DAGSTER_HOME) && cp -n koppelwerk/dagster.yaml $(DAGSTER_HOME)/
	$(BIN)/dagster dev -m pipelines.definitions -h 127.0.0.1 -p 3000

# Re-resolve the pinned dependency set after editing pyproject.toml (needs network to PyPI).
# Pins stay as the last lock had them; to upgrade one, delete its entry from both locks first.
lock: setup
	$(BIN)/pip install --quiet uv
	grep -ho '^[A-Za-z0-9_.-]*==[^ ]*' requirements/dev.lock > $(VENV)/pins.txt
	$(BIN)/uv pip compile -q --python-version 3.11 pyproject.toml --generate-hashes -c $(VENV)/pins.txt \
	    -o requirements/runtime.lock
	$(BIN)/uv pip compile -q --python-version 3.11 --extra dev pyproject.toml --generate-hashes -c $(VENV)/pins.txt \
	    -o requirements/dev.lock
	sed -i -e '/^    #   -c .*pins.txt$$/d' requirements/runtime.lock requirements/dev.lock
	sed -i -e '2s/.*/#    make lock (uv pip compile --generate-hashes, pinned as the last lock was)/' requirements/runtime.lock
	sed -i -e '2s/.*/#    make lock (uv pip compile --extra dev --generate-hashes, pinned as the last lock was)/' requirements/dev.lock

clean:
	rm -rf $(VENV) out .dagster .pytest_cache build *.egg-info
