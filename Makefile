# hastack — every entry point other people and scripts rely on. See README.md.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STACK ?= dev
OUT ?= build/render/$(STACK)
PROGRAM ?= .
STACK_ARG = $(if $(filter command line,$(origin STACK)),--stack $(STACK),)
export PYTHONDONTWRITEBYTECODE := 1

ENGINE := $(PY) -m hastack_tools.ops.engine $(if $(TARGET),--target $(TARGET),) $(if $(TOOLCHAIN),--toolchain $(TOOLCHAIN),) $(if $(RETARGET),--retarget,)

.PHONY: help venv doctor test test-fast lint typecheck pytest pytest-fast render policy docs bench up down preview refresh toolchain backup restore cluster cluster-build nodes-build cluster-down cluster-reset cancel secret fleet-plan fleet-up fleet-status fleet-drift fleet-destroy

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

$(VENV)/.installed: requirements.txt requirements-dev.txt policy/requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

venv: $(VENV)/.installed ## create .venv with the pinned dependencies

doctor: ## what this machine has (Go, Python, disk, caches) and what `make up` will do next, with times
	@$(PYTHON) -m hastack_tools.ops.doctor --stack $(STACK)

test: venv lint typecheck pytest ## the whole suite: ruff, mypy, pytest (README's test command)

test-fast: venv lint typecheck pytest-fast ## ruff, mypy and the fast tiers (unit, stack, policy): under two minutes, no toolchain or cluster

lint: venv ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv ## mypy over the program, components, tools and policy rules
	$(VENV)/bin/mypy

pytest: venv ## pytest (every tier: unit, stack, policy, tools, integration, e2e, faults, traffic, fleet); the 30 slowest named
	$(PY) -m pytest --durations=30

FAST_TIERS := tests/hastack tests/stacks tests/policy

pytest-fast: venv ## pytest of the fast tiers alone (tests/hastack, tests/stacks, tests/policy)
	$(PY) -m pytest -q $(FAST_TIERS) -m "not integration and not e2e and not faults and not traffic and not fleet"

render: venv ## STACK=<s> OUT=<dir> [PROGRAM=<dir>]: manifests the program would send, under mocks, secrets redacted
	$(PY) -m hastack_tools.dev.render --program $(PROGRAM) $(STACK_ARG) --out $(OUT)

# `make policy` exits with the gate's own code (0 clean, 1 mandatory violations, 2 could not
# evaluate); make itself only exits 0 or 2 on a failed recipe, except in question mode (-q), where
# a `+` line still runs and its status becomes make's. So `policy` alone on the command line runs
# in question mode, and builds the venv through a sub-make out of it (`make -n policy` runs it too).
ifeq ($(MAKECMDGOALS),policy)
MAKEFLAGS += -q
endif
policy: ## STACK=<s> [PROGRAM=<dir>] [GATE_ARGS=...]: offline policy gate; exit 0 clean, 1 violations, 2 not evaluated
	+@env -u MAKEFLAGS -u MAKELEVEL $(MAKE) --no-print-directory -s venv VENV=$(VENV) PYTHON=$(PYTHON)
	+$(PY) -m hastack_tools.dev.gate --program $(PROGRAM) $(STACK_ARG) $(GATE_ARGS)

$(VENV)/.bench-installed: $(VENV)/.installed requirements-bench.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt -c constraints.txt
	touch $@

docs: venv ## regenerate policy/README.md, policy/config/<env>.json and docs/configuration.md from the code (a test fails when stale)
	$(PY) -m hastack_tools.dev.docs

bench: $(VENV)/.bench-installed ## benchmarks (time and peak memory) beside their named peers
	$(PY) -m benchmarks.run

toolchain: ## build the Pulumi CLI, language host and providers from Go modules (cached outside the repo)
	bash toolchain/build.sh

up: venv ## STACK=<s> [TARGET=local|kubeconfig|render] [TOOLCHAIN=auto|built|system]: pulumi up through the real engine and the policy pack
	$(ENGINE) up --program $(PROGRAM) --stack $(STACK)

preview: venv ## STACK=<s> [PROGRAM=<dir>] [TOOLCHAIN=...]: pulumi preview --policy-pack policy --policy-pack-config policy/config/<env>.json
	$(ENGINE) preview --program $(PROGRAM) $(STACK_ARG)

refresh: venv ## STACK=<s>: pulumi refresh
	$(ENGINE) refresh --program $(PROGRAM) --stack $(STACK)

down: venv ## STACK=<s>: pulumi destroy
	$(ENGINE) destroy --program $(PROGRAM) --stack $(STACK)

cancel: venv ## STACK=<s> [FORCE=1]: stop a running or interrupted command, clear its lock and pending operations, adopt what it created
	$(ENGINE) cancel --program $(PROGRAM) --stack $(STACK) $(if $(FORCE),--force,)

secret: venv ## STACK=<s> KEY=<path>: set a stack secret from standard input, e.g. KEY='apps[1].secretEnv.DB_PASSWORD' < file
	$(ENGINE) secret --program $(PROGRAM) --stack $(STACK) --key '$(KEY)'

backup: venv toolchain ## STACK=<s>: pulumi stack export to a versioned, encrypted S3 bucket (HASTACK_BACKUP_BUCKET, HASTACK_BACKUP_ENDPOINT)
	source toolchain/env.sh && PULUMI_BACKEND_URL=$${PULUMI_BACKEND_URL:-file://$${HASTACK_WORKDIR:-$$HASTACK_CACHE}/state} $(PY) -m hastack_tools.ops.state_backup backup --program $(PROGRAM) --stack $(STACK)

restore: venv toolchain ## STACK=<s> [VERSION=<id>]: pulumi stack import of a backup (default: the newest)
	source toolchain/env.sh && PULUMI_BACKEND_URL=$${PULUMI_BACKEND_URL:-file://$${HASTACK_WORKDIR:-$$HASTACK_CACHE}/state} $(PY) -m hastack_tools.ops.state_backup restore --program $(PROGRAM) --stack $(STACK) $(if $(VERSION),--version $(VERSION),)

FLEET ?= Fleet.yaml
FLEET_CMD := $(VENV)/bin/hastack fleet --fleet $(FLEET) $(if $(TOOLCHAIN),--toolchain $(TOOLCHAIN),)

fleet-plan: venv ## [FLEET=<file>]: the fleet's waves, gates and what each stack would change (preview with the pack)
	$(FLEET_CMD) plan

fleet-up: venv ## [FLEET=<file>] [RESTART=1]: roll the fleet out wave by wave, halting on a failed gate; resumes a halted or interrupted rollout
	$(FLEET_CMD) up $(if $(RESTART),--restart,)

fleet-status: venv ## [FLEET=<file>]: where the rollout stands (after a halt or a killed orchestrator too)
	$(FLEET_CMD) status

fleet-drift: venv ## [FLEET=<file>]: preview --refresh --expect-no-changes per stack; exit 1 when a stack drifted
	$(FLEET_CMD) drift

fleet-destroy: venv ## [FLEET=<file>]: destroy every stack, last wave first
	$(FLEET_CMD) destroy

cluster-build: ## build the local control plane's binaries and fetch its CRDs from Go modules (cached outside the repo)
	bash cluster/build.sh
	bash cluster/crds.sh >/dev/null

nodes-build: ## install the real nodes' Debian packages (root) and build their kubelet, add-ons, Traefik and test app from Go modules (cached)
	bash cluster/packages.sh
	bash cluster/build-nodes.sh

cluster: ## start the local control plane on loopback (builds it first if needed); see cluster/README.md
	bash cluster/up.sh

cluster-down: ## stop the local control plane, keep its state (`make cluster` starts it again with its objects)
	bash cluster/down.sh

cluster-reset: ## stop the local control plane and remove its state: its objects are lost (binaries stay cached)
	bash cluster/down.sh --reset
