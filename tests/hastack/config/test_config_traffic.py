"""Config validation of the exposure choice, the Gateway and canaries: exact key paths and messages."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from hastack.config import ConfigError, validate
from tests.conftest import minimal_config, parsed

CANARY_DIGEST = "ghcr.io/acme/web@sha256:" + "b" * 64
GATEWAY = {"name": "public", "namespace": "gateway-system"}


def problems_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        validate(copy.deepcopy(raw), "Pulumi.test.yaml")
    return caught.value.problems


def on_gateway(environment: str = "dev", **app: Any) -> dict[str, Any]:
    """A valid minimal config exposed through the Gateway (no hastack:ingress at all)."""
    raw = minimal_config(environment, **app)
    del raw["ingress"]
    raw.update(exposure="gateway", gateway=dict(GATEWAY))
    return raw


def canary(weight: Any = 5, image: str = "ghcr.io/acme/web:1.1.0") -> dict[str, Any]:
    return {"image": image, "weight": weight}


EXACT: list[tuple[str, dict[str, Any], str]] = [
    (
        "weight above 100",
        minimal_config(canary=canary(120)),
        "hastack:apps[0].canary.weight: must be between 0 and 100 (percent of requests sent to the "
        "canary), got 120",
    ),
    (
        "weight below 0",
        minimal_config(canary=canary(-1)),
        "hastack:apps[0].canary.weight: must be between 0 and 100 (percent of requests sent to the "
        "canary), got -1",
    ),
    (
        "canary without the ingress block",
        minimal_config(ingress=None, canary=canary()),
        "hastack:apps[0].canary: needs the app's ingress block: traffic is split where it enters, at the "
        'ingress or the gateway, got {"image": "ghcr.io/acme/web:1.1.0", "weight": 5}',
    ),
    (
        "haproxy has no canary",
        {
            **minimal_config(canary=canary()),
            "ingress": {"className": "haproxy", "tls": {"mode": "self-signed"}},
        },
        "hastack:apps[0].canary: haproxy has no weighted canary mechanism; controllers that have one: "
        "ingress-nginx (class nginx), traefik (class traefik); or set exposure: gateway, got "
        '{"image": "ghcr.io/acme/web:1.1.0", "weight": 5}',
    ),
    (
        "prod canary needs a digest",
        minimal_config("prod", canary=canary(image="ghcr.io/acme/web:1.1.0")),
        "hastack:apps[0].canary.image: prod needs a digest-pinned image (name@sha256:<64 hex>), "
        "got 'ghcr.io/acme/web:1.1.0'",
    ),
    (
        "canary on latest",
        minimal_config(canary=canary(image="ghcr.io/acme/web:latest")),
        "hastack:apps[0].canary.image: :latest is not repeatable; pin a version tag or a digest, "
        "got 'ghcr.io/acme/web:latest'",
    ),
    (
        "gateway exposure without a gateway",
        {**minimal_config(), "exposure": "gateway"},
        "hastack:gateway: required by the apps exposed through a gateway (web); set name and namespace of an "
        "existing Gateway, got nothing",
    ),
    (
        "app exposure without a gateway",
        minimal_config(exposure="gateway"),
        "hastack:gateway: required by the apps exposed through a gateway (web); set name and namespace of an "
        "existing Gateway, got nothing",
    ),
    (
        "exposure on an unexposed app",
        minimal_config(ingress=None, exposure="gateway"),
        "hastack:apps[0].exposure: only applies to an app with an ingress block (hosts and paths), "
        "got 'gateway'",
    ),
    (
        "ewma on envoy-gateway",
        on_gateway(ingress={"hosts": ["shop.example.com"], "loadBalancing": "ewma"}),
        "hastack:apps[0].ingress.loadBalancing: envoy-gateway does not support 'ewma'; it supports "
        "round-robin, least-connections, consistent-hash, got 'ewma'",
    ),
    (
        "burst on envoy-gateway",
        on_gateway(ingress={"hosts": ["shop.example.com"], "rateLimit": {"rps": 10, "burst": 20}}),
        "hastack:apps[0].ingress.rateLimit.burst: envoy-gateway's local rate limit refills rps tokens each "
        "second and has no separate burst; remove burst, got 20",
    ),
    (
        "connections on envoy-gateway",
        on_gateway(ingress={"hosts": ["shop.example.com"], "rateLimit": {"rps": 10, "connections": 5}}),
        "hastack:apps[0].ingress.rateLimit.connections: envoy-gateway's BackendTrafficPolicy has no "
        "per-client connection limit; remove connections, got 5",
    ),
    (
        "redirect listener is the HTTPS listener",
        {**on_gateway(), "gateway": {**GATEWAY, "sectionName": "web", "redirectSectionName": "web"}},
        "hastack:gateway.redirectSectionName: must name the plain-HTTP listener, not the HTTPS one in "
        "sectionName (web), or every request would be redirected forever, got 'web'",
    ),
    (
        "typo in the gateway",
        {**on_gateway(), "gateway": {**GATEWAY, "sectionNmae": "https"}},
        "hastack:gateway.sectionNmae: unknown key (did you mean 'sectionName'?); allowed keys: name, "
        "namespace, sectionName, redirectSectionName, implementation, proxyNamespace",
    ),
    (
        "unknown implementation",
        {**on_gateway(), "gateway": {**GATEWAY, "implementation": "istio"}},
        "hastack:gateway.implementation: must be one of envoy-gateway, traefik, got 'istio'",
    ),
    (
        "gateway name not DNS",
        {**on_gateway(), "gateway": {"name": "Public_GW"}},
        "hastack:gateway.name: must be a DNS-1123 subdomain (lower-case letters, digits, '-', '.'), "
        "got 'Public_GW'",
    ),
    (
        "unknown exposure",
        {**minimal_config(), "exposure": "loadbalancer"},
        "hastack:exposure: must be one of ingress, gateway, got 'loadbalancer'",
    ),
    (
        "typo in canary",
        minimal_config(canary={"image": "ghcr.io/acme/web:1.1.0", "wieght": 5}),
        "hastack:apps[0].canary.wieght: unknown key (did you mean 'weight'?); allowed keys: image, weight",
    ),
]


@pytest.mark.parametrize(("case", "raw", "message"), EXACT, ids=[c[0] for c in EXACT])
def test_bad_traffic_config_is_reported_exactly(case: str, raw: dict[str, Any], message: str) -> None:
    assert message in problems_of(raw)


def test_stack_wide_gateway_problem_is_reported_once_for_many_apps() -> None:
    raw = {**minimal_config(), "exposure": "gateway"}
    raw["apps"].append({**raw["apps"][0], "name": "api", "ingress": {"hosts": ["api.example.com"]}})
    problems = problems_of(raw)
    assert problems == [
        "hastack:gateway: required by the apps exposed through a gateway (web, api); set name and namespace "
        "of an existing Gateway, got nothing"
    ]


def test_error_names_the_stack_file() -> None:
    with pytest.raises(ConfigError, match=r"Pulumi\.test\.yaml: hastack:apps\[0\]\.canary\.weight"):
        validate(minimal_config(canary=canary(101)), "Pulumi.test.yaml")


@pytest.mark.parametrize("weight", [0, 5, 100])
def test_canary_weight_bounds_are_inclusive(weight: int) -> None:
    app = parsed(minimal_config(canary=canary(weight))).apps[0]
    assert app.canary is not None and app.canary.weight == weight


def test_gateway_defaults_and_exposure_resolution() -> None:
    stack = parsed(on_gateway(canary=canary()))
    assert stack.gateway is not None
    assert (stack.gateway.section_name, stack.gateway.redirect_section_name) == ("https", "http")
    assert stack.gateway.implementation == "envoy-gateway"
    assert stack.exposure_of(stack.apps[0]) == "gateway"
    mixed = parsed({**minimal_config(), "gateway": dict(GATEWAY)})
    assert mixed.exposure == "ingress" and mixed.exposure_of(mixed.apps[0]) == "ingress"
    internal = parsed(minimal_config(ingress=None))
    assert internal.exposure_of(internal.apps[0]) is None


def test_per_app_exposure_overrides_the_stack_default() -> None:
    raw = {**minimal_config(), "gateway": dict(GATEWAY)}
    raw["apps"].append(
        {**raw["apps"][0], "name": "api", "exposure": "gateway", "ingress": {"hosts": ["api.example.com"]}}
    )
    stack = parsed(raw)
    assert [stack.exposure_of(a) for a in stack.apps] == ["ingress", "gateway"]
