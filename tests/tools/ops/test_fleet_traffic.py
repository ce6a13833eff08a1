"""The fleet's error-rate gate, piece by piece on loopback: which hosts it sends to (from the stack's
state), that it refuses kwok nodes, and that its verdict follows the failed share a server really gave."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from hastack_tools.ops import fleet_traffic, loadgen
from hastack_tools.ops.fleet_traffic import HostTarget, NoTrafficError, SoakLoad, judge, soak_targets
from tests.conftest import minimal_config, run_config

INGRESS = {
    "type": fleet_traffic.INGRESS,
    "outputs": {
        "spec": {
            "rules": [{"host": "shop.example.com"}, {"host": "plain.example.com"}, {}],
            "tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
        }
    },
}
DEPLOYMENT = {"type": "kubernetes:apps/v1:Deployment", "outputs": {"spec": {}}}


def cluster_run(tmp_path: Path, mode: str) -> Path:
    (tmp_path / "nodes-mode").write_text(f"{mode}\n")
    (tmp_path / "ports").write_text("API_PORT=6443\nINGRESS_HTTP_PORT=18080\nINGRESS_HTTPS_PORT=18443\n")
    return tmp_path


def test_hosts_come_from_the_ingresses_in_the_state_with_their_scheme() -> None:
    assert fleet_traffic.ingress_hosts([DEPLOYMENT, INGRESS]) == [
        ("plain.example.com", False),
        ("shop.example.com", True),
    ]


def test_an_ingressroute_apps_hosts_are_sent_to_over_tls_not_through_its_redirect_twin() -> None:
    """The state of a real render of an app with `kind: IngressRoute`: its hosts over TLS (the
    websecure route), though the plain-HTTP twin that only redirects names them too."""
    raw: dict[str, Any] = minimal_config(
        "dev", ingress={"hosts": ["a.example.com", "b.example.com"], "kind": "IngressRoute"}
    )
    raw["ingress"]["className"] = "traefik"
    state: list[dict[str, Any]] = [{"type": r.type, "outputs": r.outputs} for r in run_config(raw).resources]
    assert sum(r["type"] == fleet_traffic.INGRESS_ROUTE for r in state) == 2
    assert fleet_traffic.ingress_hosts(state) == [("a.example.com", True), ("b.example.com", True)]
    plain_only = [
        r for r in state if r["type"] != fleet_traffic.INGRESS_ROUTE or not r["outputs"]["spec"].get("tls")
    ]
    assert fleet_traffic.ingress_hosts(plain_only) == [("a.example.com", False), ("b.example.com", False)]


def test_each_host_is_sent_to_on_loopback_on_its_schemes_port(tmp_path: Path) -> None:
    targets = soak_targets(cluster_run(tmp_path, "real"), [INGRESS], {})
    assert [t.url for t in targets] == ["http://plain.example.com:18080/", "https://shop.example.com:18443/"]
    shop = targets[1].target
    assert (shop.address, shop.namespace, shop.server_name, shop.host_header) == (
        "127.0.0.1",
        None,
        "shop.example.com",
        "shop.example.com",
    )


def test_kwok_nodes_or_no_ingress_refuse_the_gate_saying_why(tmp_path: Path) -> None:
    with pytest.raises(NoTrafficError, match="kwok nodes, where no request is answered"):
        soak_targets(cluster_run(tmp_path, "kwok"), [INGRESS], {})
    with pytest.raises(NoTrafficError, match="no Ingress host"):
        soak_targets(cluster_run(tmp_path, "real"), [DEPLOYMENT], {})


def soak(port: int, host: str) -> dict[str, dict[str, object]]:
    target = loadgen.Target("127.0.0.1", port, host_header=host)
    return SoakLoad([HostTarget(f"http://{host}:{port}/", target)], seconds=3, rate_per_s=40).start().finish()


def test_the_verdict_follows_the_failed_share_the_server_gave(server: int) -> None:
    healthy = soak(server, "shop.local")
    ok, line = judge(healthy, max_percent=1)
    assert ok, line
    assert "0/" in line and "(0.0% <= 1%)" in line

    flaky = soak(server, "flaky.local")  # the counterfactual: every fourth request answers 500
    ok, line = judge(flaky, max_percent=1)
    assert not ok, line
    figures = flaky[f"http://flaky.local:{server}/"]
    assert 0.15 < int(str(figures["failed"])) / int(str(figures["requests"])) < 0.35
    assert "% > 1%)" in line and "'500'" in line
    assert judge(flaky, max_percent=40)[0]  # the threshold is what decides


def test_a_soak_load_stops_when_the_soak_fails(server: int) -> None:
    target = loadgen.Target("127.0.0.1", server, host_header="shop.local")
    load = SoakLoad([HostTarget("u", target)], seconds=60, rate_per_s=5).start()
    time.sleep(1)
    figures = load.finish(early=True)  # a Deployment fell: the load stops now, not in 60 s
    assert not any(thread.is_alive() for thread in load._threads)
    assert 1 <= int(str(figures["u"]["requests"])) <= 10


def test_nothing_sent_is_a_failure() -> None:
    assert judge({}, max_percent=100) == (False, "0/0 requests failed (100.0% > 100%): none sent")
