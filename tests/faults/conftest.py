"""The fault tier: faults injected on purpose into the real engine (CLI, plugins, policy pack) and a
local control plane of the tier's own (HASTACK_CLUSTER=faults, so nobody's `make up` is disturbed),
each followed by the documented recovery from docs/runbooks.md, run through `make` as a user would.

Every scenario ends in `Deployed.assert_settled`: the cluster holds exactly what the state holds, each
app's objects once, nothing the reference deploy had is missing, no pending operation, no lock, no
process of a dead run left. Times go to build/faults/figures.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.ops import engine, recovery
from hastack_tools.ops.stacks import StackWorkspace, backend_url
from hastack_tools.ops.supervise import session_members
from tests.e2e.kube import CLUSTER_DIR, Cluster, cluster_vars, wait_until
from tests.prerequisites import build_failed, built_toolchain, require_go
from tests.tiers import mark_tier, report_figures

FAULT_CLUSTER = "faults"
FIGURES: dict[str, Any] = {}
AUTO_SUFFIX = re.compile(r"-[0-9a-f]{8}$")
KINDS = ",".join(
    (
        "namespace",
        "deployment",
        "service",
        "configmap",
        "secret",
        "serviceaccount",
        "networkpolicy",
        "poddisruptionbudget",
        "horizontalpodautoscaler",
        "ingress",
    )
)
CLUSTER_DEFAULTS = {("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt")}
"""Objects the control plane puts into every namespace, no stack's."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_tier(items, Path(__file__).parent, pytest.mark.faults)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    report_figures(terminalreporter, "faults", FIGURES)


def runbook(section: str) -> list[str]:
    """The commands of a docs/runbooks.md section's first code block (what its test runs)."""
    text = (REPO_ROOT / "docs" / "runbooks.md").read_text()
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    if "```sh\n" not in body:
        return []
    block = body.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


@dataclass
class FaultCluster:
    env: dict[str, str]
    cluster: Cluster

    def pid(self, component: str) -> int:
        return int((self.cluster.run_dir / "pids" / component).read_text())

    def script(self, name: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(CLUSTER_DIR / name), *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )

    def up(self) -> subprocess.CompletedProcess[str]:
        done = self.script("up.sh")
        if done.returncode != 0:
            raise AssertionError(f"cluster/up.sh failed:\n{done.stderr[-3000:]}")
        return done


@pytest.fixture(scope="session")
def fault_cluster() -> Iterator[FaultCluster]:
    """A control plane of the tier's own, started clean and removed at the end."""
    built_toolchain()
    env = {**os.environ, "HASTACK_CLUSTER": FAULT_CLUSTER}
    paths = cluster_vars(env)
    cluster = Cluster(Path(paths["bin"]), Path(paths["run"]))
    if not (cluster.bin_dir / "kube-apiserver").is_file():
        require_go("the local control plane")
    faults = FaultCluster(env, cluster)
    faults.script("down.sh", "--reset")
    done = faults.script("up.sh")
    if done.returncode != 0:
        faults.script("down.sh", "--reset")
        build_failed(
            "the faults control plane (HASTACK_CLUSTER=faults cluster/up.sh)", done.returncode, done.stderr
        )
    try:
        yield faults
    finally:
        faults.script("down.sh", "--reset")


@dataclass
class Result:
    code: int
    output: str
    seconds: float


def identity(kind: str, name: str) -> tuple[str, str]:
    return kind, AUTO_SUFFIX.sub("", name)


@dataclass
class Deployed:
    """A copy of the dev program with a namespace of its own, its state and workspaces in `workdir`,
    driven through `make` on the faults control plane."""

    faults: FaultCluster
    program: Path
    namespace: str
    workdir: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {**self.faults.env, "HASTACK_WORKDIR": str(self.workdir), "TARGET": "local", **self.extra_env}

    def make_args(self, words: str) -> list[str]:
        return [
            "make",
            "--no-print-directory",
            "-C",
            str(REPO_ROOT),
            *words.split()[1:],
            f"PROGRAM={self.program}",
        ]

    def run(
        self,
        words: str,
        *,
        stdin: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 900,
    ) -> Result:
        """One runbook line (`make up STACK=dev`), as a user runs it."""
        start = time.monotonic()
        done = subprocess.run(
            self.make_args(words),
            env={**self.env, **(env or {})},
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        return Result(done.returncode, done.stdout + done.stderr, time.monotonic() - start)

    def start(self, words: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
        """A command left running, as in a terminal (its own process group, like a shell job)."""
        return subprocess.Popen(
            self.make_args(words),
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    @property
    def workspace(self) -> StackWorkspace:
        return StackWorkspace("hastack", "dev", self.workdir, self.backend)

    @property
    def backend(self) -> str:
        return self.env.get("PULUMI_BACKEND_URL") or backend_url({}, self.workdir)

    def cli_env(self) -> dict[str, str]:
        return {
            **built_toolchain(),
            **self.extra_env,
            "PULUMI_BACKEND_URL": self.backend,
            "PULUMI_CONFIG_PASSPHRASE": engine.LOCAL_PASSPHRASE,
        }

    def state(self) -> dict[str, Any]:
        done = subprocess.run(
            ["pulumi", "stack", "export", "--stack", "dev"],
            cwd=self.workspace.folder,
            env=self.cli_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    def running_record(self) -> dict[str, Any] | None:
        return self.workspace.record.read()

    def cli_pid(self, timeout_s: float = 120) -> int:
        wait_until(
            "the CLI to start", lambda: self.running_record() is not None, timeout=timeout_s, interval=0.1
        )
        return int((self.running_record() or {})["pid"])

    def cluster_objects(self) -> Counter[tuple[str, str]]:
        found = self.faults.cluster.kubectl("get", KINDS, "-n", self.namespace, "-o", "json", check=False)
        items = json.loads(found.stdout or '{"items": []}')["items"] if found.returncode == 0 else []
        namespaced = Counter(
            identity(i["kind"], i["metadata"]["name"])
            for i in items
            if (i["kind"], i["metadata"]["name"]) not in CLUSTER_DEFAULTS and i["kind"] != "Namespace"
        )
        ns = self.faults.cluster.kubectl("get", "namespace", self.namespace, check=False)
        if ns.returncode == 0:
            namespaced[("Namespace", self.namespace)] += 1
        return namespaced

    def state_objects(self, state: Mapping[str, Any] | None = None) -> Counter[tuple[str, str]]:
        state = state or self.state()
        found: Counter[tuple[str, str]] = Counter()
        for resource in (state.get("deployment") or {}).get("resources") or []:
            kind_token = str(resource.get("type", ""))
            if not kind_token.startswith("kubernetes:") or kind_token.startswith("kubernetes:yaml"):
                continue
            if kind_token.startswith("pulumi:providers"):
                continue
            name = ((resource.get("outputs") or {}).get("metadata") or {}).get("name")
            if name:
                found[identity(kind_token.rsplit(":", 1)[1], str(name))] += 1
        return found

    def assert_settled(self, reference: Counter[tuple[str, str]] | None = None) -> dict[str, int]:
        """The promise of every runbook; returns the figures (objects lost, orphans)."""
        state = self.state()
        assert recovery.pending_operations(state) == [], "no pending operation"
        assert recovery.backend_locks(self.backend, "hastack", "dev", self.cli_env()) == [], "no lock"
        in_cluster, in_state = self.cluster_objects(), self.state_objects(state)
        assert in_cluster == in_state, (
            f"cluster and state differ: only in cluster {in_cluster - in_state}, "
            f"only in state {in_state - in_cluster}"
        )
        assert max(in_cluster.values(), default=1) == 1, f"an object exists twice: {in_cluster}"
        lost = sum((reference - in_cluster).values()) if reference is not None else 0
        assert lost == 0, f"lost: {reference - in_cluster if reference else ''}"
        record = self.running_record()
        assert record is None, f"a run record is left: {record}"
        return {"objects_lost": lost, "orphans": sum((in_cluster - in_state).values())}


def changes(output: str) -> dict[str, int]:
    """The `Resources:` summary of pulumi's last report: {'unchanged': 27} or {'created': 3, ...}."""
    summary = output.rsplit("Resources:", 1)[-1] if "Resources:" in output else ""
    found: dict[str, int] = {}
    for line in summary.splitlines()[1:]:
        match = re.match(r"\s+([+~\-]*)\s*(\d+) ([a-z]+)", line)
        if not match:
            break
        found[match[3]] = int(match[2])
    return found


def leftover_processes(sid: int) -> list[int]:
    return [pid for pid in session_members(sid) if pid != os.getpid()]


def kill(pid: int, signum: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


@pytest.fixture
def deployed(
    fault_cluster: FaultCluster, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Deployed]:
    """A fresh program copy whose namespace is named after the test; destroyed afterwards."""
    suffix = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower().removeprefix("test_"))[:24].strip("-")
    program, namespace = engine.program_copy(tmp_path, "dev", suffix)
    stack = Deployed(fault_cluster, program, namespace, tmp_path / "work")
    yield stack
    fault_cluster.cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
