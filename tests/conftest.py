"""Shared fixtures: the repo root, stack configs as plain data, and mock runs of the program."""

from __future__ import annotations

import copy
import os
import socket
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from hastack.config import ENVIRONMENTS, StackConfig, validate
from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.dev.mockrun import MockRun, run_program
from tests.consumer import consumer_project  # noqa: F401 - session fixture for every tier
from tests.prerequisites import PREREQUISITE_ABSENT, built_toolchain

# The tiers that need a control plane use one of their own, on kwok nodes: `make up` of the default one
# (real nodes where this machine can run them) is never disturbed by a test run, and never disturbs
# it. The faults and traffic tiers name theirs (faults; traffic, with real nodes).
os.environ.setdefault("HASTACK_CLUSTER", "tests")
os.environ.setdefault("HASTACK_NODES", "kwok")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line naming the absent prerequisite, so a skipped tier is never read as a passed one."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if PREREQUISITE_ABSENT in reason:
            text = reason.split(PREREQUISITE_ABSENT, 1)[1].strip()
            reasons[text] = reasons.get(text, 0) + 1
    for text, count in reasons.items():
        line = f"NOT RUN: {count} tests skipped, {PREREQUISITE_ABSENT} {text}"
        terminalreporter.write_line(line, yellow=True)


def stack_file_config(stack: str) -> dict[str, Any]:
    """The `hastack:` keys of a committed stack file, without the namespace prefix."""
    loaded = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())
    return {key.split(":", 1)[1]: value for key, value in loaded["config"].items()}


@cache
def program_run_of(stack: str) -> MockRun:
    return run_program(REPO_ROOT, stack)


STACKS = ("dev", "staging", "prod")
"""The committed stack files, one per environment; every stack test runs over each."""


@pytest.fixture(params=STACKS)
def stack_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def program_run(stack_name: str) -> MockRun:
    """The real program under mocks for one committed stack (run once per session)."""
    return program_run_of(stack_name)


def minimal_config(environment: str = "dev", **app_overrides: Any) -> dict[str, Any]:
    """A small valid config for `environment` (at its profile's floors); tests change one thing at a time."""
    rules = ENVIRONMENTS.get(environment, ENVIRONMENTS["dev"])  # an unknown one: a test of that error
    digest = "@sha256:" + "a" * 64
    app: dict[str, Any] = {
        "name": "web",
        "image": "ghcr.io/acme/web" + (digest if rules.require_digest else ":1.0.0"),
        "port": 8080,
        "replicas": rules.min_replicas,
        "ingress": {"hosts": ["shop.example.com"]},
    }
    app.update(app_overrides)
    tls = (
        {"mode": "self-signed"}
        if "self-signed" in rules.tls_modes
        else {"mode": "cert-manager", "issuer": "letsencrypt"}
    )
    return {
        "environment": environment,
        "namespace": "shop",
        "ingress": {"className": "nginx", "tls": tls},
        "apps": [app],
    }


def parsed(raw: dict[str, Any]) -> StackConfig:
    return validate(copy.deepcopy(raw), "Pulumi.test.yaml")


ConfigFactory = Callable[..., dict[str, Any]]


def engine_strings(raw: dict[str, Any]) -> dict[str, str]:
    """The config as the engine hands it to a program: `hastack:<key>` to string (JSON for objects)."""
    import json

    return {f"hastack:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}


def run_config(raw: dict[str, Any], stack: str = "test") -> MockRun:
    """Runs the real program (`__main__.py`) under mocks with `raw` as its `hastack:` config."""
    import runpy

    def program() -> None:
        runpy.run_path(str(REPO_ROOT / "__main__.py"), run_name="__main__")

    from hastack_tools.dev.mockrun import run_function

    return run_function(program, project="hastack", stack=stack, config=engine_strings(raw))


def objects(run: MockRun, kind: str) -> list[dict[str, Any]]:
    """Rendered manifests of one kind (auto-names filled, secrets redacted)."""
    from hastack_tools.dev.render import is_kubernetes_object, manifest

    return [manifest(r) for r in run.resources if is_kubernetes_object(r) and r.inputs.get("kind") == kind]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a loopback port: state backend and backup bucket for the tests."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def kubernetes_provider() -> Path:
    """The real kubernetes provider the mock run answers YAML and Helm through (built if needed:
    a failed build fails, see tests/prerequisites.py)."""
    return Path(built_toolchain()["HASTACK_TOOLCHAIN_BIN"]) / "pulumi-resource-kubernetes"
