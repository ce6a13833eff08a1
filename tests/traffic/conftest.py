"""The traffic tier: hastack's HA claims proven with requests, on a local control plane with real nodes
(HASTACK_CLUSTER=traffic, HASTACK_NODES=real: containerd, kubelet, kube-proxy, kube-router and Traefik
in network namespaces of their own; cluster/nodes.sh). Stacks are deployed with `make up` as a team
would; load comes from hastack_tools' bounded load generator, which sends only to loopback or inside the
cluster's own namespaces. Each scenario asserts an outcome, records its figures in
build/traffic/figures.json and names its counterfactual (most run it in the same test).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hastack_tools.ops import loadgen
from hastack_tools.ops.local_urls import real_nodes_absent
from tests.e2e.kube import CLUSTER_DIR, Cluster, cluster_vars
from tests.prerequisites import PREREQUISITE_ABSENT, build_failed, built_toolchain, in_ci, require_go
from tests.tiers import mark_tier, report_figures

TRAFFIC_CLUSTER = "traffic"
FIGURES: dict[str, Any] = {}
KEEP = os.environ.get("HASTACK_TRAFFIC_KEEP") == "1"
"""Leave the traffic control plane running after the session (to look at it); the default removes it."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_tier(items, Path(__file__).parent, pytest.mark.traffic)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    report_figures(terminalreporter, "traffic", FIGURES)


def record(name: str, run: loadgen.Run | None = None, **extra: Any) -> dict[str, Any]:
    """A scenario's figures: the run's (requests, failed, p50/p99, statuses) and what it measured."""
    figures: dict[str, Any] = {**(run.figures() if run is not None else {}), **extra}
    FIGURES[name] = figures
    return figures


@dataclass
class TrafficCluster:
    env: dict[str, str]
    cluster: Cluster
    net: int
    images: Path

    @property
    def underlay(self) -> str:
        return f"hsk-{self.net}-u"

    def node_ns(self, zone: str) -> str:
        return f"hsk-{self.net}-{zone}"

    def node_ip(self, zone: str) -> str:
        return f"10.77.{self.net}.1{'abc'.index(zone) + 1}"

    @property
    def allowed(self) -> dict[str, list[str]]:
        """Where the load generator may send: the cluster's own namespaces, their own addresses."""
        ours = [f"10.77.{self.net}.0/24", f"10.{self.net}.0.0/16"]
        allowed = {self.underlay: ours}
        for zone in "abc":
            allowed[self.node_ns(zone)] = [*ours, "10.96.0.0/16"]
        return allowed

    def image(self, name: str) -> str:
        """`hastack.local/<name>:<tag>@sha256:...`: the image as built, pinned by its digest."""
        ref = (self.images / f"{name}.ref").read_text().strip()
        return f"{ref}@{(self.images / f'{name}.digest').read_text().strip()}"

    def ingress(self, host: str, *, https: bool = True, ca_file: str | None = None) -> loadgen.Target:
        """Traefik's NodePort on node-a, from the underlay, for `host` (SNI and Host header)."""
        return loadgen.Target(
            self.node_ip("a"),
            30443 if https else 30080,
            self.underlay,
            "https" if https else "http",
            host_header=host,
            server_name=host if https else None,
            ca_file=ca_file,
        )

    @contextmanager
    def port_forward(self, namespace: str, pod: str, port: int) -> Iterator[loadgen.Target]:
        """A loopback port into one pod (the API server's port-forward: no NetworkPolicy in between,
        as an operator's `kubectl port-forward`), for the test app's admin switches."""
        proc = subprocess.Popen(
            [*self.cluster.kubectl_command(), "port-forward", "-n", namespace, f"pod/{pod}", f":{port}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            found = re.search(r"127\.0\.0\.1:(\d+)", line)
            if found is None:
                raise AssertionError(
                    f"port-forward to {pod}: {line}{proc.stderr.read() if proc.stderr else ''}"
                )
            yield loadgen.Target("127.0.0.1", int(found.group(1)))
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    def admin(self, namespace: str, pod: str, port: int, path: str) -> loadgen.Sample:
        """One POST to a pod's admin switch (`/admin/ready?on=0`)."""
        with self.port_forward(namespace, pod, port) as target:
            return loadgen.send(loadgen.Target(target.address, target.port, path=path), {}, method="POST")

    def fetch_from(self, namespace: str, pod: str, port: int, url: str) -> dict[str, Any]:
        """`url` fetched from inside `pod` (its own network namespace and NetworkPolicies)."""
        with self.port_forward(namespace, pod, port) as target:
            sample = loadgen.send(
                loadgen.Target(target.address, target.port, path=f"/fetch?url={url}"), {}, timeout_s=10
            )
        return dict(json.loads(sample.body)) if sample.body else {"error": sample.error}


@pytest.fixture(scope="session")
def traffic_cluster() -> Iterator[TrafficCluster]:
    """A control plane with three real nodes (started if it is not running), removed at the end."""
    why = real_nodes_absent(os.environ)
    if why is not None:
        if in_ci():
            pytest.fail(f"CI must run the traffic tier: {why}", pytrace=False)
        pytest.skip(f"{PREREQUISITE_ABSENT} real nodes: {why}")
    require_go("the local control plane and its real nodes")
    built_toolchain()
    env = {**os.environ, "HASTACK_CLUSTER": TRAFFIC_CLUSTER, "HASTACK_NODES": "real"}
    paths = cluster_vars(env)
    cluster = Cluster(Path(paths["bin"]), Path(paths["run"]))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", *args], env=env, capture_output=True, text=True, check=False, timeout=3600
        )

    done = run(str(CLUSTER_DIR / "up.sh"))
    if done.returncode != 0:
        build_failed(
            "the traffic control plane (HASTACK_NODES=real cluster/up.sh)", done.returncode, done.stderr
        )
    shown = run("-c", f'. "{CLUSTER_DIR}/versions.sh"; echo "$CLUSTER_NET $NODES_IMAGES"').stdout.split()
    try:
        yield TrafficCluster(env, cluster, int(shown[0]), Path(shown[1]))
    finally:
        if not KEEP:
            run(str(CLUSTER_DIR / "down.sh"), "--reset")
            left = processes_naming(paths["run"])
            # seen before the fix: containerd shims of the nodes' pods outlived their cluster
            assert not left, f"cluster/down.sh --reset left processes of {paths['run']}: {left}"


def processes_naming(folder: str) -> list[str]:
    """Command lines of the processes that name `folder` (a control plane's run folder) in theirs."""
    assert folder.startswith("/") and len(folder) > 1, folder
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue  # gone meanwhile
        if folder + "/" in line or line.endswith(folder):
            found.append(line[:200])
    return found
