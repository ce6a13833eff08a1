"""`apps[].ingress.kind: IngressRoute`: Traefik's own route with the strategy, passive health check and
Middlewares hastack's neutral settings ask for, its HTTP redirect twin, and what it refuses by name.
The traffic tier (tests/traffic) proves the same objects with requests."""

from __future__ import annotations

from typing import Any

import pytest

from hastack.config import ConfigError
from tests.conftest import minimal_config, objects, parsed, run_config

HOSTS = ["a.example.com", "b.example.com"]


def route_config(tls: dict[str, Any] | None = None, **ingress: Any) -> dict[str, Any]:
    raw = minimal_config(
        "dev", ingress={"hosts": HOSTS, "paths": ["/", "/api"], "kind": "IngressRoute", **ingress}
    )
    raw["ingress"]["className"] = "traefik"
    if tls is not None:
        raw["ingress"]["tls"] = tls
    return raw


def problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parsed(raw)
    return raised.value.problems


def routes(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, dict[str, Any]]]:
    """The HTTPS route, the redirect route, and the Middlewares by their generated names."""
    run = run_config(raw)
    assert objects(run, "Ingress") == []  # the route replaces the Ingress, it does not double it
    found = objects(run, "IngressRoute")
    (secure,) = [r for r in found if r["spec"]["entryPoints"] == ["websecure"]]
    (plain,) = [r for r in found if r["spec"]["entryPoints"] == ["web"]]
    middlewares = {m["metadata"]["name"]: m["spec"] for m in objects(run, "Middleware")}
    return secure, plain, middlewares


@pytest.mark.parametrize(
    ("algorithm", "strategy"),
    [("round-robin", "wrr"), ("least-connections", "p2c"), ("ewma", "leasttime"), ("consistent-hash", "hrw")],
)
def test_each_algorithm_is_the_routes_strategy(algorithm: str, strategy: str) -> None:
    secure, _, _ = routes(route_config(loadBalancing=algorithm))
    (service,) = secure["spec"]["routes"][0]["services"]
    assert service["strategy"] == strategy
    assert "passiveHealthCheck" not in service  # only when backendHealth asks


def test_the_route_matches_every_host_and_path_over_tls_and_plain_http_only_redirects() -> None:
    secure, plain, middlewares = routes(route_config())
    (route,) = secure["spec"]["routes"]
    match = "(Host(`a.example.com`) || Host(`b.example.com`)) && (PathPrefix(`/`) || PathPrefix(`/api`))"
    assert route["match"] == match and route["kind"] == "Rule"
    assert route["services"][0]["name"] == "web" and route["services"][0]["port"] == 80
    assert "middlewares" not in route  # no rate limit, no retries asked
    assert secure["spec"]["tls"]["secretName"]
    (redirect,) = plain["spec"]["routes"]
    assert redirect["match"] == match
    assert [middlewares[m["name"]] for m in redirect["middlewares"]] == [
        {"redirectScheme": {"scheme": "https", "permanent": True}}
    ]


def test_backend_health_is_a_passive_health_check_and_retries_and_limits_are_middlewares() -> None:
    secure, _, middlewares = routes(
        route_config(
            backendHealth={"consecutiveErrors": 3, "ejectionSeconds": 10},
            retries={"attempts": 2, "conditions": ["gateway-error", "5xx"]},
            rateLimit={"rps": 5, "burst": 10, "connections": 4},
        )
    )
    (route,) = secure["spec"]["routes"]
    assert route["services"][0]["passiveHealthCheck"] == {"maxFailedAttempts": 3, "failureWindow": "10s"}
    chain = [middlewares[m["name"]] for m in route["middlewares"]]
    assert chain == [
        {"rateLimit": {"average": 5, "period": "1s", "burst": 10}},
        {"inFlightReq": {"amount": 4}},
        # no connect-failure or reset asked: Traefik's retry on network errors is turned off
        {"retry": {"attempts": 2, "status": ["502-504", "500-599"], "disableRetryOnNetworkError": True}},
    ]


def test_retries_on_connection_failures_keep_traefiks_network_retry() -> None:
    secure, _, middlewares = routes(route_config(retries={"attempts": 1}))
    (retry,) = [middlewares[m["name"]] for m in secure["spec"]["routes"][0]["middlewares"]]
    assert retry == {"retry": {"attempts": 1, "status": ["502-504"]}}


def test_cert_manager_gets_a_certificate_for_the_route() -> None:
    """cert-manager's ingress-shim reads Ingress annotations only: the route's Secret comes from a
    Certificate of the app's hosts (without it the route would name a Secret nobody makes)."""
    raw = route_config(tls={"mode": "cert-manager", "issuer": "letsencrypt"})
    run = run_config(raw)
    (certificate,) = objects(run, "Certificate")
    (secure,) = [r for r in objects(run, "IngressRoute") if r["spec"]["entryPoints"] == ["websecure"]]
    assert certificate["spec"] == {
        "secretName": secure["spec"]["tls"]["secretName"],
        "dnsNames": HOSTS,
        "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "letsencrypt"},
    }


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (
            {"className": "nginx"},
            "apps[0].ingress.kind: IngressRoute is Traefik's own route; the app is exposed through the "
            "ingress-nginx controller",
        ),
        (
            {"timeouts": {"connectSeconds": 2}},
            "apps[0].ingress.timeouts.connectSeconds: traefik (kind: IngressRoute) cannot limit the time to "
            "connect to a backend",
        ),
        (
            {"backendHealth": {"maxEjectedPercent": 30}},
            "apps[0].ingress.backendHealth.maxEjectedPercent: traefik (kind: IngressRoute) has no cap",
        ),
        ({"kind": "Route"}, "apps[0].ingress.kind"),
    ],
)
def test_what_the_route_cannot_do_is_refused_by_name(change: dict[str, Any], fragment: str) -> None:
    raw = route_config()
    if "className" in change:
        raw["ingress"]["className"] = change.pop("className")
    raw["apps"][0]["ingress"].update(change)
    assert any(fragment in p for p in problems(raw)), problems(raw)


def test_a_canary_on_the_route_is_refused() -> None:
    raw = route_config()
    raw["apps"][0]["canary"] = {"image": raw["apps"][0]["image"], "weight": 10}
    assert any(
        "apps[0].canary: hastack renders no weighted canary for kind IngressRoute" in p for p in problems(raw)
    )


def test_the_ingress_path_of_traefik_still_refuses_least_connections() -> None:
    """Counterfactual of the first test: without `kind: IngressRoute` Traefik's ingress-nginx provider has
    no least-connections, and says where it is."""
    raw = route_config(loadBalancing="least-connections")
    del raw["apps"][0]["ingress"]["kind"]
    assert any("does not support 'least-connections'" in p for p in problems(raw)), problems(raw)
