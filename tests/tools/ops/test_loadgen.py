"""The load generator's guard rails: it refuses any target outside loopback and the namespaces our
scripts made, and every loop ends by itself at its count or its deadline."""

from __future__ import annotations

import threading

import pytest

from hastack_tools.ops import loadgen
from hastack_tools.ops.local_urls import ingress_hosts


@pytest.mark.parametrize(
    ("target", "allowed"),
    [
        (loadgen.Target("10.0.0.1", 80), {}),  # not loopback, no namespace named
        (loadgen.Target("192.0.2.7", 80, "hsk-150-u"), {"hsk-150-u": ["10.77.150.0/24"]}),  # not ours there
        (loadgen.Target("10.77.150.11", 80, "hsk-150-u"), {}),  # a namespace we did not make
    ],
)
def test_a_target_outside_loopback_and_our_namespaces_is_refused_before_sending(
    target: loadgen.Target, allowed: dict[str, list[str]]
) -> None:
    with pytest.raises(loadgen.TargetRefusedError):
        loadgen.load(target, count=1, seconds=1, allowed=allowed)
    with pytest.raises(loadgen.TargetRefusedError):
        loadgen.send(target, allowed)


def test_a_load_stops_at_its_count_and_reports_pods_and_failures(server: int) -> None:
    run = loadgen.load(loadgen.Target("127.0.0.1", server), count=30, seconds=60, allowed={}, concurrency=3)
    assert run.total == 30 and run.failed == 0
    assert sum(run.by_pod().values()) == 30 and len(run.by_pod()) == 3
    failing = loadgen.load(loadgen.Target("127.0.0.1", server, path="/fail"), count=5, seconds=60, allowed={})
    assert failing.failed == 5 and failing.statuses()[500] == 5
    assert failing.figures()["failed"] == 5


def test_a_load_stops_at_its_deadline_and_at_stop(server: int) -> None:
    target = loadgen.Target("127.0.0.1", server)
    timed = loadgen.load(target, count=10**9, seconds=0.5, allowed={}, rate_per_s=20)
    assert 0 < timed.total <= 12  # 20 a second for half a second, not the count
    stop = threading.Event()
    stop.set()
    assert loadgen.load(target, count=10**9, seconds=60, allowed={}, stop=stop).total == 0
    with pytest.raises(ValueError, match="bounded"):
        loadgen.load(target, count=0, seconds=1, allowed={})


def test_the_hosts_make_up_announces_are_the_stack_files_ingress_hosts() -> None:
    config = {
        "hastack:apps": [
            {"name": "web", "ingress": {"hosts": ["shop.example.com", "www.example.com"]}},
            {"name": "api"},
        ]
    }
    assert ingress_hosts(config) == [("web", "shop.example.com"), ("web", "www.example.com")]
