"""The fleet's error-rate gate: requests through a stack's Ingress (and IngressRoute) hosts while it
soaks, counted.

Requests go only to loopback: the ports cluster/nodes.sh forwards to the local control plane's Traefik
(its run folder's `ports` file), with each host's name as SNI and Host header. The hosts come from the
stack's state (the Ingresses `up` made), so the gate judges what was deployed, whatever the program.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hastack.controllers import TRAEFIK_API_VERSION
from hastack_tools.ops import loadgen
from hastack_tools.ops.local_urls import (
    ANSWER_WAIT_S,
    ask,
    https_on_loopback,
    nodes_mode,
    read_ports,
    real_nodes_absent,
)

INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
INGRESS_ROUTE = f"kubernetes:{TRAEFIK_API_VERSION}:IngressRoute"
ROUTE_HOST = re.compile(r"Host\(`([^`]+)`\)")
"""A host of a Traefik rule (`Host(`shop.example.com`) && PathPrefix(`/`)`); HostRegexp is not one."""
CONCURRENCY = 2
"""Requests in flight per host: a slow answer does not stall the count."""


class NoTrafficError(RuntimeError):
    """No request can be sent to the stack (kwok nodes, no Ingress host, no forwarded port)."""


def ingress_hosts(resources: Iterable[Mapping[str, Any]]) -> list[tuple[str, bool]]:
    """(host, served over TLS) for every rule host of the Ingresses and every `Host()` of the Traefik
    IngressRoutes in a stack's state; a host served over TLS anywhere is sent to over TLS (an
    IngressRoute app's plain-HTTP twin only redirects to it)."""
    found: dict[str, bool] = {}
    for resource in resources:
        spec = (resource.get("outputs") or {}).get("spec") or {}
        if resource.get("type") == INGRESS:
            tls = {h for entry in spec.get("tls") or [] for h in entry.get("hosts") or []}
            served = [
                (str(rule["host"]), rule["host"] in tls)
                for rule in spec.get("rules") or []
                if rule.get("host")
            ]
        elif resource.get("type") == INGRESS_ROUTE:
            served = [
                (host, bool(spec.get("tls")))
                for route in spec.get("routes") or []
                for host in ROUTE_HOST.findall(str(route.get("match") or ""))
            ]
        else:
            continue
        for host, tls_served in served:
            found[host] = found.get(host, False) or tls_served
    return sorted(found.items())


@dataclass(frozen=True)
class HostTarget:
    url: str
    target: loadgen.Target


def soak_targets(
    cluster_run: Path, resources: Iterable[Mapping[str, Any]], env: Mapping[str, str]
) -> list[HostTarget]:
    """Where the gate sends: each Ingress host on the loopback port of its scheme."""
    mode = nodes_mode(cluster_run)
    if mode != "real":
        why = real_nodes_absent(env) or f"the control plane was started with {mode} nodes"
        raise NoTrafficError(f"the cluster runs kwok nodes, where no request is answered ({why})")
    hosts = ingress_hosts(resources)
    if not hosts:
        raise NoTrafficError("the stack has no Ingress host to send requests through")
    ports = read_ports(cluster_run)
    targets = []
    for host, tls in hosts:
        scheme = "https" if tls else "http"
        port = ports.get(f"INGRESS_{scheme.upper()}_PORT")
        if port is None:
            raise NoTrafficError(f"no {scheme} ingress port recorded in {cluster_run / 'ports'}")
        target = (
            https_on_loopback(host, port)
            if tls
            else loadgen.Target("127.0.0.1", port, None, "http", host_header=host)
        )
        targets.append(HostTarget(f"{scheme}://{host}:{port}/", target))
    return targets


def first_answers(targets: Iterable[HostTarget]) -> list[str]:
    """Hosts that did not answer 2xx-3xx within ANSWER_WAIT_S (the ingress controller picks up new
    endpoints by watch): the gate fails on them before counting."""
    deadline = time.monotonic() + ANSWER_WAIT_S
    silent = []
    for host in targets:
        sample = ask(host.target, deadline)
        if not sample.ok:
            silent.append(
                f"{host.url} did not answer 2xx-3xx in {ANSWER_WAIT_S:.0f} s (last: {_said(sample)})"
            )
    return silent


def _said(sample: loadgen.Sample) -> str:
    return str(sample.status) if sample.status is not None else (sample.error or "no answer")


@dataclass
class SoakLoad:
    """A bounded load per host for the soak's length (`count` and `seconds` both stop it), in threads."""

    targets: list[HostTarget]
    seconds: float
    rate_per_s: float
    stop: threading.Event = field(default_factory=threading.Event)
    runs: dict[str, loadgen.Run] = field(default_factory=dict)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> SoakLoad:
        for host in self.targets:
            thread = threading.Thread(target=self._load, args=(host,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _load(self, host: HostTarget) -> None:
        self.runs[host.url] = loadgen.load(
            host.target,
            count=math.ceil(self.rate_per_s * self.seconds) + 1,
            seconds=self.seconds,
            allowed={},
            rate_per_s=self.rate_per_s,
            concurrency=CONCURRENCY,
            stop=self.stop,
        )

    def finish(self, early: bool = False) -> dict[str, dict[str, object]]:
        """Each host's figures once its load ended by itself (`early`: stopped now, the soak failed)."""
        if early:
            self.stop.set()
        for thread in self._threads:
            thread.join(timeout=self.seconds + 30)
        return {url: run.figures() for url, run in self.runs.items()}


def judge(figures: Mapping[str, Mapping[str, Any]], max_percent: float) -> tuple[bool, str]:
    """Whether the failed share over every host stays within `max_percent`, and the line that says so."""
    total = sum(int(f["requests"]) for f in figures.values())
    failed = sum(int(f["failed"]) for f in figures.values())
    share = 100.0 * failed / total if total else 100.0
    ok = total > 0 and share <= max_percent
    hosts = "; ".join(
        f"{url} {f['failed']}/{f['requests']} failed, statuses {f['statuses']}" for url, f in figures.items()
    )
    verdict = "<=" if ok else ">"
    return (
        ok,
        f"{failed}/{total} requests failed ({share:.1f}% {verdict} {max_percent:g}%): {hosts or 'none sent'}",
    )
