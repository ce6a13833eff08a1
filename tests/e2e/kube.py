"""Helpers for the local control plane's tests: paths from cluster/versions.sh, kubectl and raw
API calls with the admin client certificate, polling."""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from hastack_tools.common.checkout import REPO_ROOT

CLUSTER_DIR = REPO_ROOT / "cluster"


CLUSTER_VARS = {
    "bin": "CLUSTER_BIN",
    "run": "CLUSTER_RUN",
    "crds": "CLUSTER_CRDS",
    "gateway_api": "GATEWAY_API_VERSION",
    "envoy_gateway": "ENVOY_GATEWAY_VERSION",
    "cert_manager": "CERT_MANAGER_VERSION",
}


def cluster_vars(env: dict[str, str] | None = None) -> dict[str, str]:
    """Paths and pinned versions as cluster/versions.sh computes them (one source of truth); `env`
    may name another control plane (HASTACK_CLUSTER)."""
    echo = "; ".join(f'echo "${variable}"' for variable in CLUSTER_VARS.values())
    out = subprocess.run(
        ["bash", "-c", f'. "{CLUSTER_DIR}/versions.sh"; {echo}'],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout.split("\n")
    return dict(zip(CLUSTER_VARS, out, strict=False))


@dataclass(frozen=True)
class Cluster:
    bin_dir: Path
    run_dir: Path

    @property
    def kubeconfig(self) -> Path:
        return self.run_dir / "kubeconfig"

    @cached_property
    def server(self) -> str:
        """Read once: the watchers call the API several times a second."""
        return str(self.kubectl_json("config", "view", "--raw")["clusters"][0]["cluster"]["server"])

    @cached_property
    def tls_context(self) -> ssl.SSLContext:
        pki = self.run_dir / "pki"
        ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        ctx.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        return ctx

    def kubectl_command(self) -> list[str]:
        """kubectl with this control plane's admin kubeconfig."""
        return [str(self.bin_dir / "kubectl"), "--kubeconfig", str(self.kubeconfig)]

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [*self.kubectl_command(), *args],
            check=False,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
        return proc

    def kubectl_json(self, *args: str) -> Any:
        return json.loads(self.kubectl(*args, "-o", "json").stdout)

    def apply(self, manifest: str) -> None:
        self.kubectl("apply", "-f", "-", input=manifest)

    def api(self, method: str, path: str, body: Any | None = None) -> tuple[int, Any]:
        """Raw HTTPS call with the admin client certificate; returns (status, decoded JSON body)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.server + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, context=self.tls_context, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")


@contextmanager
def scratch_namespace(cluster: Cluster, prefix: str) -> Iterator[str]:
    """A namespace of the test's own (a unique name), deleted afterwards without waiting."""
    ns = f"{prefix}-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", ns)
    try:
        yield ns
    finally:
        cluster.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def wait_until(what: str, predicate: Callable[[], bool], timeout: float = 90, interval: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def is_running(c: Cluster) -> bool:
    if not (c.kubeconfig.is_file() and (c.bin_dir / "kubectl").is_file()):
        return False
    return c.kubectl("get", "--raw=/readyz", check=False, timeout=20).returncode == 0


def evict(cluster: Cluster, namespace: str, pod: str) -> tuple[int, Any]:
    """POST an Eviction, as `kubectl drain` does: 201 when the budget allows it, 429 when it does not."""
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": pod, "namespace": namespace}}
    return cluster.api("POST", f"/api/v1/namespaces/{namespace}/pods/{pod}/eviction", body)


def live_pods(cluster: Cluster, namespace: str, selector: str = "") -> list[dict[str, Any]]:
    """Pods not being deleted (kwok removes deleted pods at once, but a list may still race it)."""
    args = ["-n", namespace, "get", "pods", *(["-l", selector] if selector else [])]
    items: list[dict[str, Any]] = cluster.kubectl_json(*args)["items"]
    return [p for p in items if "deletionTimestamp" not in p["metadata"]]


def is_ready(pod: dict[str, Any]) -> bool:
    conditions = pod.get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


@dataclass(frozen=True)
class Sample:
    at: float
    replicas: int
    available: int
    ready: int
    updated: int


class DeploymentWatcher:
    """Samples every Deployment of a namespace every `interval` seconds in a thread, through the API
    (a raw GET costs far less than a kubectl process, so the cadence holds on 2 cores).

    Deployments are keyed by their `app.kubernetes.io/instance` label (names are auto-suffixed).
    """

    def __init__(self, cluster: Cluster, namespace: str, interval: float = 0.2) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.interval = interval
        self.samples: dict[str, list[Sample]] = {}
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"watch-{namespace}", daemon=True)

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.is_set():
            status, body = self.cluster.api("GET", f"/apis/apps/v1/namespaces/{self.namespace}/deployments")
            if status != 200:
                self.errors.append(f"GET deployments: {status} {body}")
            else:
                for item in body["items"]:
                    key = item["metadata"]["labels"]["app.kubernetes.io/instance"]
                    st = item.get("status", {})
                    self.samples.setdefault(key, []).append(
                        Sample(
                            at=time.monotonic() - start,
                            replicas=int(item["spec"].get("replicas", 0)),
                            available=int(st.get("availableReplicas", 0)),
                            ready=int(st.get("readyReplicas", 0)),
                            updated=int(st.get("updatedReplicas", 0)),
                        )
                    )
            self._stop.wait(self.interval)

    def __enter__(self) -> DeploymentWatcher:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def minimum(self, key: str, field: str) -> int:
        return min(int(getattr(s, field)) for s in self.samples[key])
