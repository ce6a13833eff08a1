"""The Gateway API exposure path: HTTPRoute, HTTP→HTTPS redirect route and Envoy Gateway's
BackendTrafficPolicy, each validated against the upstream CRD schema shipped in tests/data/crds.
"""

from __future__ import annotations

from typing import Any

import pytest

from hastack.controllers import GATEWAY_CONTROLLERS_BY_NAME, RateLimit
from hastack.resources.gateway import http_route_spec, redirect_route_spec
from hastack.resources.network import network_policy_spec
from tests.conftest import minimal_config, objects, parsed, run_config
from tests.stacks import crd_schema

GATEWAY = {"name": "public", "namespace": "gateway-system"}


def gateway_config(**app: Any) -> dict[str, Any]:
    raw = minimal_config("dev", **app)
    del raw["ingress"]
    raw.update(exposure="gateway", gateway=dict(GATEWAY))
    return raw


def test_route_attaches_to_the_https_listener_with_every_host_and_path() -> None:
    stack = parsed(
        gateway_config(ingress={"hosts": ["a.example.com", "b.example.com"], "paths": ["/", "/api"]})
    )
    assert stack.gateway is not None
    spec = http_route_spec(stack.apps[0], stack.gateway, {"stable": "web"})
    assert spec == {
        "parentRefs": [
            {
                "group": "gateway.networking.k8s.io",
                "kind": "Gateway",
                "name": "public",
                "namespace": "gateway-system",
                "sectionName": "https",
            }
        ],
        "hostnames": ["a.example.com", "b.example.com"],
        "rules": [
            {
                "matches": [
                    {"path": {"type": "PathPrefix", "value": "/"}},
                    {"path": {"type": "PathPrefix", "value": "/api"}},
                ],
                "backendRefs": [{"kind": "Service", "name": "web", "port": 80}],
            }
        ],
    }


def test_gateway_in_the_route_namespace_is_referenced_without_namespace() -> None:
    raw = gateway_config()
    raw["gateway"] = {"name": "public"}
    stack = parsed(raw)
    assert stack.gateway is not None
    ref = http_route_spec(stack.apps[0], stack.gateway, {"stable": "web"})["parentRefs"][0]
    assert "namespace" not in ref


@pytest.mark.parametrize(("weight", "stable"), [(0, 100), (5, 95), (100, 0)])
def test_canary_splits_by_native_backend_weights(weight: int, stable: int) -> None:
    stack = parsed(gateway_config(canary={"image": "ghcr.io/acme/web:1.1.0", "weight": weight}))
    assert stack.gateway is not None
    spec = http_route_spec(stack.apps[0], stack.gateway, {"stable": "web", "canary": "web-canary"})
    assert spec["rules"][0]["backendRefs"] == [
        {"kind": "Service", "name": "web", "port": 80, "weight": stable},
        {"kind": "Service", "name": "web-canary", "port": 80, "weight": weight},
    ]


def test_redirect_route_only_upgrades_to_https_on_the_plain_listener() -> None:
    stack = parsed(gateway_config())
    assert stack.gateway is not None
    spec = redirect_route_spec(stack.apps[0], stack.gateway)
    assert spec["parentRefs"][0]["sectionName"] == "http"
    assert spec["rules"] == [
        {"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}
    ]
    assert "backendRefs" not in spec["rules"][0]


@pytest.mark.parametrize(
    ("algorithm", "load_balancer"),
    [
        ("round-robin", {"type": "RoundRobin"}),
        ("least-connections", {"type": "LeastRequest"}),
        ("consistent-hash", {"type": "ConsistentHash", "consistentHash": {"type": "SourceIP"}}),
    ],
)
def test_envoy_gateway_policy_maps_balancing_and_per_client_limits(
    algorithm: str, load_balancer: dict[str, Any]
) -> None:
    profile = GATEWAY_CONTROLLERS_BY_NAME["envoy-gateway"]
    assert profile.problems(algorithm, RateLimit(25)) == []
    spec = profile.traffic_policy_spec(algorithm, RateLimit(25), "web-route")
    assert spec["targetRefs"] == [
        {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "web-route"}
    ]
    assert spec["loadBalancer"] == load_balancer
    rules = spec["rateLimit"]["local"]["rules"]
    assert spec["rateLimit"]["type"] == "Local"
    assert [r["clientSelectors"][0]["sourceCIDR"] for r in rules] == [
        {"type": "Distinct", "value": "0.0.0.0/0"},
        {"type": "Distinct", "value": "::/0"},
    ]
    assert all(r["limit"] == {"requests": 25, "unit": "Second"} for r in rules)
    assert "rateLimit" not in profile.traffic_policy_spec(algorithm, None, "web-route")


def test_envoy_gateway_refuses_what_it_cannot_do() -> None:
    profile = GATEWAY_CONTROLLERS_BY_NAME["envoy-gateway"]
    keys = [p.key for p in profile.problems("ewma", RateLimit(10, burst=20, connections=5))]
    assert keys == ["loadBalancing", "rateLimit.burst", "rateLimit.connections"]


def test_program_emits_schema_valid_gateway_objects_and_no_ingress() -> None:
    raw = gateway_config(
        canary={"image": "ghcr.io/acme/web:1.1.0", "weight": 10},
        ingress={"hosts": ["shop.example.com"], "loadBalancing": "consistent-hash", "rateLimit": {"rps": 30}},
    )
    run = run_config(raw)
    assert objects(run, "Ingress") == []
    routes = objects(run, "HTTPRoute")
    policies = objects(run, "BackendTrafficPolicy")
    assert len(routes) == 2 and len(policies) == 1
    for manifest in [*routes, *policies]:
        crd_schema.validate(manifest)
    (main,) = [r for r in routes if "backendRefs" in r["spec"]["rules"][0]]
    assert policies[0]["spec"]["targetRefs"][0]["name"] == main["metadata"]["name"]
    assert {r["metadata"]["namespace"] for r in [*routes, *policies]} == {"shop"}
    names = run.outputs["apps"]["web"]["resourceNames"]
    assert names["httpRoute"] == main["metadata"]["name"]
    assert {"redirectHttpRoute", "trafficPolicy", "canaryDeployment", "canaryService"} <= set(names)
    assert not any(r.type.startswith("kubernetes:") and r.parent == "" for r in run.resources if r.custom)


def test_schema_validation_would_catch_a_typo() -> None:
    """Guards the test above: the shipped CRD schema, closed, rejects an unknown field."""
    stack = parsed(gateway_config())
    assert stack.gateway is not None
    spec = http_route_spec(stack.apps[0], stack.gateway, {"stable": "web"})
    spec["rules"][0]["backendRefs"][0]["wieght"] = 1
    bad = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {}, "spec": spec}
    with pytest.raises(crd_schema.ValidationError):
        crd_schema.validate(bad)
    spec["rules"][0]["backendRefs"][0].pop("wieght")
    spec["rules"][0]["backendRefs"][0]["weight"] = 1_000_001
    with pytest.raises(crd_schema.ValidationError):
        crd_schema.validate(bad)


def test_network_policy_admits_the_gateway_proxies() -> None:
    stack = parsed(gateway_config())
    peers = network_policy_spec(stack.apps[0], stack, stack.neighbours_of(stack.apps[0]))["ingress"][0][
        "from"
    ]
    assert peers == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "envoy-gateway-system"}}}
    ]
    raw = gateway_config()
    raw["gateway"] = {**GATEWAY, "proxyNamespace": "edge-proxies"}
    stack = parsed(raw)
    peers = network_policy_spec(stack.apps[0], stack, stack.neighbours_of(stack.apps[0]))["ingress"][0][
        "from"
    ]
    assert peers[0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "edge-proxies"


def test_traefik_as_the_gateway_gets_weighted_routes_and_no_policy_resource() -> None:
    """Traefik has no policy resource hastack writes: the routes carry the canary weights, nothing else is
    attached, its proxies' namespace is admitted, and what only a policy could say is refused."""
    raw = gateway_config(
        canary={"image": "ghcr.io/acme/web:1.1.0", "weight": 10}, ingress={"hosts": ["a.example.com"]}
    )
    raw["gateway"] = {**GATEWAY, "implementation": "traefik"}
    run = run_config(raw)
    routes = objects(run, "HTTPRoute")
    assert len(routes) == 2 and objects(run, "BackendTrafficPolicy") == []
    (main,) = [r for r in routes if "backendRefs" in r["spec"]["rules"][0]]
    assert sorted(ref["weight"] for ref in main["spec"]["rules"][0]["backendRefs"]) == [10, 90]
    assert "trafficPolicy" not in run.outputs["apps"]["web"]["resourceNames"]
    stack = parsed(raw)
    peers = network_policy_spec(stack.apps[0], stack, stack.neighbours_of(stack.apps[0]))["ingress"][0][
        "from"
    ]
    assert peers == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "traefik"}}}]
    traefik = GATEWAY_CONTROLLERS_BY_NAME["traefik"]
    assert [p.key for p in traefik.problems("consistent-hash", RateLimit(10))] == [
        "loadBalancing",
        "rateLimit",
    ]
