"""The stack the traffic scenarios deploy: hastack's own program (`__main__.py`) with a stack file of the
tier's, apps running hastack's test app (`hastack.local/echo`, digest-pinned as built), exposed through
Traefik (the `traefik` controller profile), deployed with `make up` as a team would."""

from __future__ import annotations

import copy
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.ops import loadgen
from tests.traffic.conftest import TrafficCluster

UP_TIMEOUT_S = 900


def echo_app(
    traffic: TrafficCluster, name: str, *, port: int = 8080, host: str | None = None, **extra: Any
) -> dict[str, Any]:
    """One app of the test image on `port`, probed on its /readyz (every 2 s) and /livez."""
    app: dict[str, Any] = {
        "name": name,
        "image": traffic.image("echo"),
        "port": port,
        "replicas": 3,
        "env": {"PORT": str(port)},
        "resources": {
            "requests": {"cpu": "20m", "memory": "16Mi"},
            "limits": {"cpu": "500m", "memory": "64Mi"},
        },
        "probes": {
            "readiness": {"path": "/readyz", "periodSeconds": 2, "failureThreshold": 2},
            "liveness": {"path": "/livez", "periodSeconds": 5},
        },
    }
    if host is not None:
        app["ingress"] = {"hosts": [host], "paths": ["/"]}
    app.update(extra)
    return app


@dataclass
class Stack:
    """A program copy with its own stack file, deployed with `make up` onto the traffic cluster (its
    state and workspaces under `root`)."""

    traffic: TrafficCluster
    root: Path
    namespace: str
    apps: list[dict[str, Any]]
    ups: list[float] = field(default_factory=list)
    stack: str = "traffic"
    """The Pulumi stack: its stack file is Pulumi.<stack>.yaml in the program copy."""

    @property
    def program(self) -> Path:
        return self.root / "program"

    def app(self, name: str) -> dict[str, Any]:
        return next(a for a in self.apps if a["name"] == name)

    def write(self) -> None:
        self.program.mkdir(parents=True, exist_ok=True)
        for name in ("Pulumi.yaml", "__main__.py"):
            (self.program / name).write_text((REPO_ROOT / name).read_text())
        venv = self.program / ".venv"
        if not venv.exists():
            venv.symlink_to(REPO_ROOT / ".venv", target_is_directory=True)
        config = {
            "hastack:environment": "dev",
            "hastack:namespace": self.namespace,
            "hastack:ingress": {"className": "traefik", "tls": {"mode": "self-signed"}},
            # the Gateway cluster/addons/traefik.yaml makes, for `exposure: gateway` apps
            "hastack:gateway": {"name": "public", "namespace": "gateway-system", "implementation": "traefik"},
            "hastack:apps": copy.deepcopy(self.apps),
        }
        (self.program / f"Pulumi.{self.stack}.yaml").write_text(
            yaml.safe_dump({"config": config}, sort_keys=False)
        )

    def up(self) -> str:
        """`make up` of the stack; returns its output (fails the test with it on a non-zero exit)."""
        self.write()
        started = time.monotonic()
        done = subprocess.run(
            [
                "make",
                "--no-print-directory",
                "-C",
                str(REPO_ROOT),
                "up",
                f"STACK={self.stack}",
                f"PROGRAM={self.program}",
                "TARGET=local",
            ],
            env={**self.traffic.env, "HASTACK_WORKDIR": str(self.root / "work")},
            capture_output=True,
            text=True,
            timeout=UP_TIMEOUT_S,
            check=False,
        )
        self.ups.append(round(time.monotonic() - started, 1))
        output = done.stdout + done.stderr
        assert done.returncode == 0, output[-6000:]
        return output

    def pods(self, app: str) -> list[dict[str, Any]]:
        found = self.traffic.cluster.kubectl_json(
            "get", "pods", "-n", self.namespace, "-l", f"app.kubernetes.io/name={app}"
        )
        return [p for p in found["items"] if "deletionTimestamp" not in p["metadata"]]

    def ready_pods(self, app: str) -> list[dict[str, Any]]:
        return [
            p
            for p in self.pods(app)
            if any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in p.get("status", {}).get("conditions", [])
            )
        ]

    def wait_ready(self, app: str, count: int, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while len(self.ready_pods(app)) < count:
            assert time.monotonic() < deadline, f"{app}: {len(self.ready_pods(app))} ready pods, want {count}"
            time.sleep(1)

    def wait_serving(
        self, host: str, pods: int, timeout: float = 120, rate_per_s: float | None = None
    ) -> None:
        """Until the ingress answers `host` from `pods` different pods (Traefik has the endpoints)."""
        deadline = time.monotonic() + timeout
        count = 6 if rate_per_s else 30
        while True:
            target = self.traffic.ingress(host)
            run = loadgen.load(
                target, count=count, seconds=10, allowed=self.traffic.allowed, rate_per_s=rate_per_s
            )
            if run.failed == 0 and len(run.by_pod()) >= pods:
                return
            assert time.monotonic() < deadline, f"{host}: not served by {pods} pods: {run.figures()}"
            time.sleep(1)

    def destroy(self) -> None:
        self.traffic.cluster.kubectl("delete", "namespace", self.namespace, "--wait=false", check=False)


class Background:
    """A bounded load running beside the test's actions until the block ends (then 2 s more)."""

    def __init__(
        self,
        target: loadgen.Target,
        allowed: dict[str, list[str]],
        rate: float,
        seconds: float,
        concurrency: int = 4,
    ) -> None:
        self.stop = threading.Event()
        self.run = loadgen.Run()
        self.concurrency = concurrency
        self._args = (target, allowed, rate, seconds)
        self._thread = threading.Thread(target=self._load, daemon=True)

    def _load(self) -> None:
        target, allowed, rate, seconds = self._args
        self.run = loadgen.load(
            target,
            count=int(rate * seconds) + 1,
            seconds=seconds,
            allowed=allowed,
            rate_per_s=rate,
            concurrency=self.concurrency,
            stop=self.stop,
        )

    def __enter__(self) -> Background:
        self._thread.start()
        time.sleep(2)
        return self

    def __exit__(self, *_: object) -> None:
        time.sleep(2)
        self.stop.set()
        self._thread.join(timeout=60)
