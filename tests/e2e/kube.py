"""Helpers for the local control plane's tests: paths from cluster/versions.sh, kubectl and raw
API calls with the admin client certificate, polling."""

from __future__ import annotations

import json
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CLUSTER_DIR = REPO / "cluster"


def cluster_vars() -> dict[str, str]:
    """CLUSTER_BIN / CLUSTER_RUN as cluster/versions.sh computes them (one source of truth)."""
    out = subprocess.run(
        ["bash", "-c", f'. "{CLUSTER_DIR}/versions.sh"; echo "$CLUSTER_BIN"; echo "$CLUSTER_RUN"'],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    return {"bin": out[0], "run": out[1]}


@dataclass(frozen=True)
class Cluster:
    bin_dir: Path
    run_dir: Path

    @property
    def kubeconfig(self) -> Path:
        return self.run_dir / "kubeconfig"

    @property
    def server(self) -> str:
        return str(self.kubectl_json("config", "view", "--raw")["clusters"][0]["cluster"]["server"])

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(self.bin_dir / "kubectl"), "--kubeconfig", str(self.kubeconfig), *args],
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
        pki = self.run_dir / "pki"
        ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        ctx.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.server + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")


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
