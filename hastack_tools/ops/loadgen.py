"""A bounded HTTP load generator for the traffic tier: every loop stops by itself at a request count
or a deadline, whichever comes first, and it only ever sends to loopback or to an address inside a
network namespace our cluster scripts made (the caller names the namespace; anything else is refused
before a packet leaves).

Each request is a new connection (as a fresh client would open), answered by the test app with the
name of the pod that served it, so a run tells failures, latency and which backend took each request.
"""

from __future__ import annotations

import ctypes
import http.client
import ipaddress
import json
import os
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


class TargetRefusedError(ValueError):
    """A target outside loopback and our namespaces: never sent to."""


@contextmanager
def in_netns(namespace: str | None) -> Iterator[None]:
    """This thread inside /var/run/netns/<namespace> for the block (None: where it is)."""
    if namespace is None:
        yield
        return
    here = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    there = os.open(f"/var/run/netns/{namespace}", os.O_RDONLY)
    try:
        if _libc.setns(there, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {namespace}")
        yield
    finally:
        _libc.setns(here, CLONE_NEWNET)
        os.close(here)
        os.close(there)


@dataclass(frozen=True)
class Target:
    """Where requests go: an address and port, the namespace it lives in (None: loopback only)."""

    address: str
    port: int
    namespace: str | None = None
    scheme: str = "http"
    host_header: str | None = None
    path: str = "/"
    server_name: str | None = None
    ca_file: str | None = None

    def check(self, allowed: Mapping[str, list[str]]) -> None:
        """`allowed`: namespace -> CIDRs our scripts put there. Loopback needs no namespace."""
        ip = ipaddress.ip_address(self.address)
        if self.namespace is None:
            if not ip.is_loopback:
                raise TargetRefusedError(f"{self.address}: outside loopback, and no namespace of ours named")
            return
        networks = [ipaddress.ip_network(c) for c in allowed.get(self.namespace, [])]
        if not any(ip in n for n in networks):
            raise TargetRefusedError(f"{self.address} is not an address our scripts made in {self.namespace}")


@dataclass
class Sample:
    at: float
    latency_s: float
    status: int | None
    pod: str | None
    error: str | None = None
    body: bytes = b""
    peer_cert: bytes | None = None
    """The certificate the server presented (DER), for HTTPS."""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 400


@dataclass
class Run:
    samples: list[Sample] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.samples)

    @property
    def failed(self) -> int:
        return sum(1 for s in self.samples if not s.ok)

    def statuses(self) -> Counter[int | str]:
        return Counter(s.status if s.status is not None else (s.error or "error") for s in self.samples)

    def by_pod(self) -> Counter[str]:
        return Counter(s.pod for s in self.samples if s.ok and s.pod)

    def quantile(self, q: float) -> float:
        latencies = sorted(s.latency_s for s in self.samples)
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0

    def figures(self) -> dict[str, object]:
        return {
            "requests": self.total,
            "failed": self.failed,
            "p50_ms": round(self.quantile(0.5) * 1000, 1),
            "p99_ms": round(self.quantile(0.99) * 1000, 1),
            "statuses": {str(k): v for k, v in self.statuses().items()},
        }


def _one(target: Target, timeout_s: float, headers: Mapping[str, str], method: str = "GET") -> Sample:
    start = time.monotonic()
    peer_cert: bytes | None = None
    try:
        if target.scheme == "https":
            context = ssl.create_default_context(cafile=target.ca_file)
            if target.ca_file is None:
                context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            # SNI and the certificate check name the host, not the address dialled (http.client would
            # send neither for an IP address)
            raw = socket.create_connection((target.address, target.port), timeout=timeout_s)
            try:
                tls = context.wrap_socket(raw, server_hostname=target.server_name or target.address)
            except BaseException:
                raw.close()
                raise
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                target.address, target.port, timeout=timeout_s, context=context
            )
            conn.sock = tls
            peer_cert = tls.getpeercert(binary_form=True)
        else:
            conn = http.client.HTTPConnection(target.address, target.port, timeout=timeout_s)
        request_headers = {"Connection": "close", **headers}
        if target.host_header:
            request_headers["Host"] = target.host_header
        conn.request(method, target.path, headers=request_headers)
        response = conn.getresponse()
        body = response.read()
        conn.close()
        pod = None
        if body[:1] == b"{":
            try:
                pod = json.loads(body).get("pod")
            except ValueError:
                pod = None
        return Sample(
            start, time.monotonic() - start, response.status, pod, body=body[:4096], peer_cert=peer_cert
        )
    except (OSError, http.client.HTTPException) as error:
        return Sample(start, time.monotonic() - start, None, None, type(error).__name__)


def send(
    target: Target, allowed: Mapping[str, list[str]], *, method: str = "GET", timeout_s: float = 5.0
) -> Sample:
    """One request (a probe, an admin switch), from inside the target's namespace."""
    target.check(allowed)
    with in_netns(target.namespace):
        return _one(target, timeout_s, {}, method)


def load(
    target: Target,
    *,
    count: int,
    seconds: float,
    allowed: Mapping[str, list[str]],
    rate_per_s: float | None = None,
    concurrency: int = 1,
    timeout_s: float = 2.0,
    headers: Mapping[str, str] | None = None,
    stop: threading.Event | None = None,
    on_sample: Callable[[Sample], None] | None = None,
) -> Run:
    """Sends up to `count` requests within `seconds` (and stops at `stop`), `concurrency` at a time, at
    most `rate_per_s` in all. Refuses a target outside loopback and our namespaces."""
    target.check(allowed)
    if count <= 0 or seconds <= 0:
        raise ValueError("a load is bounded: count and seconds must be positive")
    run, lock = Run(), threading.Lock()
    deadline = time.monotonic() + seconds
    issued = [0]
    interval = concurrency / rate_per_s if rate_per_s else 0.0

    def worker() -> None:
        with in_netns(target.namespace):
            while True:
                with lock:
                    if issued[0] >= count:
                        return
                    issued[0] += 1
                if time.monotonic() >= deadline or (stop is not None and stop.is_set()):
                    return
                began = time.monotonic()
                sample = _one(target, timeout_s, headers or {})
                with lock:
                    run.samples.append(sample)
                if on_sample is not None:
                    on_sample(sample)
                if interval:
                    time.sleep(max(0.0, interval - (time.monotonic() - began)))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + timeout_s + 5)
    run.samples.sort(key=lambda s: s.at)
    return run
