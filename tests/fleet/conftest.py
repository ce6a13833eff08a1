"""The fleet tier: real waves of real stacks (tests/fleet/program, one small app each) across three
local control planes of the tier's own (HASTACK_CLUSTER=fleet-a|b|c), driven through `hastack fleet`
as a user runs it. Each test writes its own fleet file and stack files into a folder of its own, with
its own state (HASTACK_WORKDIR), and destroys what it deployed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hastack_tools.common.checkout import REPO_ROOT
from tests.e2e.kube import CLUSTER_DIR, Cluster, cluster_vars
from tests.prerequisites import build_failed, built_toolchain, require_go
from tests.tiers import mark_tier

CLUSTERS = ("fleet-a", "fleet-b", "fleet-c")
NODES = "kwok"
"""Fake nodes: pods become Ready without containers (the test app's image is never pulled), and three
control planes stay light on a shared machine; a control plane keeps the mode it started with."""
PROGRAM = Path(__file__).parent / "program"
HOUR = 3600
THREE_WAVES = """\
name: {name}
program: program
stacks:
  - {{name: {prefix}-a, cluster: fleet-a}}
  - {{name: {prefix}-b, cluster: fleet-b}}
  - {{name: {prefix}-c, cluster: fleet-c}}
waves:
  - name: one
    stacks: [{prefix}-a]
    gates: {{availableTimeoutSeconds: {timeout}, noChangePreview: false}}
  - name: two
    stacks: [{prefix}-b]
    gates: {{availableTimeoutSeconds: {timeout}, noChangePreview: false}}
  - name: three
    stacks: [{prefix}-c]
    gates: {{availableTimeoutSeconds: {timeout}, noChangePreview: false}}
"""
"""A fleet of one stack per cluster and wave (`name`, `prefix`, the Available gate's `timeout`)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_tier(items, Path(__file__).parent, pytest.mark.fleet)


def _script(name: str, cluster: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(CLUSTER_DIR / name), *args],
        env={**os.environ, "HASTACK_CLUSTER": cluster, "HASTACK_NODES": NODES},
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


@pytest.fixture(scope="session")
def clusters() -> Iterator[dict[str, Cluster]]:
    """The three control planes, started clean (in parallel) and removed at the end."""
    built_toolchain()
    found: dict[str, Cluster] = {}
    for name in CLUSTERS:
        paths = cluster_vars({**os.environ, "HASTACK_CLUSTER": name})
        found[name] = Cluster(Path(paths["bin"]), Path(paths["run"]))
    if not (found[CLUSTERS[0]].bin_dir / "kube-apiserver").is_file():
        require_go("the local control plane")
    for name in CLUSTERS:
        _script("down.sh", name, "--reset")
    starts = {
        name: subprocess.Popen(
            ["bash", str(CLUSTER_DIR / "up.sh")],
            env={**os.environ, "HASTACK_CLUSTER": name, "HASTACK_NODES": NODES},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in CLUSTERS
    }
    failed = [
        (name, proc.wait(900), proc.stderr.read() if proc.stderr else "") for name, proc in starts.items()
    ]
    try:
        for name, code, errors in failed:
            if code != 0:
                build_failed(f"HASTACK_CLUSTER={name} cluster/up.sh", code, errors)
        yield found
    finally:
        for name in CLUSTERS:
            _script("down.sh", name, "--reset")


@dataclass
class Done:
    code: int
    output: str


@dataclass
class FleetDir:
    """A fleet file, the program with its stack files, and the fleet's state, in a folder of its own."""

    root: Path
    clusters: dict[str, Cluster]

    @property
    def program(self) -> Path:
        return self.root / "program"

    @property
    def fleet_file(self) -> Path:
        return self.root / "Fleet.yaml"

    @property
    def workdir(self) -> Path:
        return self.root / "work"

    def stack(self, name: str, **config: Any) -> None:
        """Pulumi.<name>.yaml: the app in namespace <name>, with `config` (replicas, unschedulable)."""
        lines = [f"  fleetapp:namespace: {name}"] + [
            f"  fleetapp:{key}: {json.dumps(value)}" for key, value in config.items()
        ]
        (self.program / f"Pulumi.{name}.yaml").write_text("config:\n" + "\n".join(lines) + "\n")

    def write(self, text: str) -> None:
        self.fleet_file.write_text(textwrap.dedent(text))

    def command(self, *args: str) -> list[str]:
        """The installed command the make targets run."""
        hastack = Path(sys.executable).parent / "hastack"
        return [str(hastack), "fleet", *args, "--fleet", str(self.fleet_file)]

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "HASTACK_WORKDIR": str(self.workdir)}

    def run(self, command: str, timeout: float = 900, *, make: bool = False) -> Done:
        """`hastack fleet <command> --fleet <file>` (its exit code: 0, 1 halted or drifted, 2 could not
        run), or `make fleet-<command> FLEET=<file>` (make reports any failure as 2)."""
        argv = (
            [
                "make",
                "--no-print-directory",
                "-C",
                str(REPO_ROOT),
                f"fleet-{command}",
                f"FLEET={self.fleet_file}",
            ]
            if make
            else self.command(command)
        )
        done = subprocess.run(
            argv,
            env=self.env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        return Done(done.returncode, done.stdout + done.stderr)

    def start(self, *args: str) -> subprocess.Popen[str]:
        """The orchestrator left running, as from a terminal (a session of its own)."""
        return subprocess.Popen(
            self.command(*args),
            env=self.env,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def state(self) -> dict[str, Any]:
        name = next(
            line.split(":", 1)[1].strip()
            for line in self.fleet_file.read_text().splitlines()
            if line.startswith("name:")
        )
        path = self.workdir / "fleet" / name / "state.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def deployments(self, cluster: str, namespace: str) -> list[dict[str, Any]]:
        status, body = self.clusters[cluster].api("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments")
        return list(body.get("items") or []) if status == 200 else []

    def resource_counts(self) -> dict[str, int]:
        """Per stack, the resources its checkpoint in the fleet's file backend holds."""
        found = {}
        for path in sorted((self.workdir / "state" / ".pulumi" / "stacks").glob("*/*.json")):
            latest = json.loads(path.read_text()).get("checkpoint", {}).get("latest") or {}
            found[path.stem] = len(latest.get("resources") or [])
        return found

    def namespace_exists(self, cluster: str, namespace: str) -> bool:
        status, _ = self.clusters[cluster].api("GET", f"/api/v1/namespaces/{namespace}")
        return status == 200


@pytest.fixture
def fleet_dir(tmp_path: Path, clusters: dict[str, Cluster]) -> Iterator[FleetDir]:
    root = tmp_path / "fleet"
    (root / "program").mkdir(parents=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROGRAM / name, root / "program" / name)
    (root / "program" / ".venv").symlink_to(REPO_ROOT / ".venv", target_is_directory=True)
    found = FleetDir(root, clusters)
    yield found
    state = found.state() if found.fleet_file.exists() else {}
    if state and (state.get("command"), state.get("result")) != ("destroy", "passed"):
        found.run("destroy")  # what the test (or its failure) left deployed


def wait_for(what: str, predicate: Any, timeout: float = 300, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)
