"""Unhealthy backends taken out by the load balancer: passive health checks (outlier detection),
retries and timeouts, as each controller profile can express them, and refused where it cannot."""

from __future__ import annotations

from typing import Any

import pytest

from hastack.config import ConfigError
from tests.conftest import minimal_config, objects, parsed, run_config
from tests.stacks import crd_schema

HOSTS = ["shop.example.com"]
EVERYTHING: dict[str, Any] = {
    "backendHealth": {"consecutiveErrors": 3, "ejectionSeconds": 20, "maxEjectedPercent": 34},
    "retries": {"attempts": 2, "conditions": ["connect-failure", "gateway-error"], "perTryTimeoutSeconds": 5},
    "timeouts": {"connectSeconds": 2, "requestSeconds": 30},
}


def ingress_config(controller: str = "nginx", **ingress: Any) -> dict[str, Any]:
    raw = minimal_config("dev", ingress={"hosts": HOSTS, **ingress})
    raw["ingress"]["className"] = controller
    return raw


def gateway_config(**ingress: Any) -> dict[str, Any]:
    raw = minimal_config("dev", ingress={"hosts": HOSTS, **ingress})
    del raw["ingress"]
    raw.update(exposure="gateway", gateway={"name": "public", "namespace": "gateway-system"})
    return raw


def problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parsed(raw)
    return raised.value.problems


def test_envoy_gateway_ejects_retries_and_times_out_per_route() -> None:
    run = run_config(gateway_config(**EVERYTHING))
    (policy,) = objects(run, "BackendTrafficPolicy")
    crd_schema.validate(policy)
    spec = policy["spec"]
    assert spec["healthCheck"] == {
        "passive": {"consecutive5XxErrors": 3, "baseEjectionTime": "20s", "maxEjectionPercent": 34}
    }
    assert spec["retry"] == {
        "numRetries": 2,
        "retryOn": {"triggers": ["connect-failure", "gateway-error"]},
        "perRetry": {"timeout": "5s"},
    }
    assert spec["timeout"] == {"tcp": {"connectTimeout": "2s"}, "http": {"requestTimeout": "30s"}}


def test_backend_health_defaults_and_nothing_without_the_keys() -> None:
    (policy,) = objects(run_config(gateway_config(backendHealth={})), "BackendTrafficPolicy")
    crd_schema.validate(policy)
    assert policy["spec"]["healthCheck"]["passive"] == {
        "consecutive5XxErrors": 5,
        "baseEjectionTime": "30s",
        "maxEjectionPercent": 50,
    }
    (plain,) = objects(run_config(gateway_config()), "BackendTrafficPolicy")
    assert not {"healthCheck", "retry", "timeout"} & set(plain["spec"])


def test_ingress_nginx_retries_on_the_next_upstream_with_timeouts_in_seconds() -> None:
    raw = ingress_config(
        retries={"attempts": 2, "conditions": ["connect-failure", "5xx"]},
        timeouts={"connectSeconds": 2, "readSeconds": 20},
    )
    (ingress,) = objects(run_config(raw), "Ingress")
    nginx = "nginx.ingress.kubernetes.io/proxy-"
    assert {k: v for k, v in ingress["metadata"]["annotations"].items() if k.startswith(nginx)} == {
        nginx + "next-upstream": "error timeout http_500 http_502 http_503 http_504",
        nginx + "next-upstream-tries": "3",
        nginx + "connect-timeout": "2",
        nginx + "read-timeout": "20",
        nginx + "send-timeout": "20",
    }


def test_haproxy_sets_the_server_timeout() -> None:
    (ingress,) = objects(run_config(ingress_config("haproxy", timeouts={"readSeconds": 45})), "Ingress")
    assert ingress["metadata"]["annotations"]["haproxy.org/timeout-server"] == "45s"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            ingress_config(backendHealth={"consecutiveErrors": 3}),
            "hastack:apps[0].ingress.backendHealth: ingress-nginx cannot take a failing backend out of "
            "rotation by its errors (passive health check); traefik (kind: IngressRoute), envoy-gateway "
            "(exposure: gateway) can, got "
            '{"consecutiveErrors": 3, "ejectionSeconds": 30, "maxEjectedPercent": 50}',
        ),
        (
            ingress_config(retries={"attempts": 1, "perTryTimeoutSeconds": 3}),
            "hastack:apps[0].ingress.retries.perTryTimeoutSeconds: ingress-nginx cannot limit the time of "
            "each try; envoy-gateway (exposure: gateway) can, got 3",
        ),
        (
            ingress_config("haproxy", retries={"attempts": 1}),
            "hastack:apps[0].ingress.retries: haproxy cannot retry a failed request on another backend; "
            "ingress-nginx (class nginx), traefik (class traefik), traefik (kind: IngressRoute), "
            "envoy-gateway (exposure: gateway) can, got "
            '{"attempts": 1, "conditions": ["connect-failure", "gateway-error"], '
            '"perTryTimeoutSeconds": null}',
        ),
        (
            gateway_config(timeouts={"readSeconds": 20}),
            "hastack:apps[0].ingress.timeouts.readSeconds: envoy-gateway cannot limit the time between two "
            "reads from a backend; ingress-nginx (class nginx), haproxy (class haproxy), traefik (class "
            "traefik) can, got 20",
        ),
    ],
)
def test_a_combination_the_controller_cannot_do_names_those_that_can(
    raw: dict[str, Any], expected: str
) -> None:
    assert problems(raw) == [expected]


def test_retries_must_fit_in_the_request_timeout() -> None:
    raw = gateway_config(retries={"attempts": 2, "perTryTimeoutSeconds": 10}, timeouts={"requestSeconds": 20})
    assert problems(raw) == [
        "hastack:apps[0].ingress.timeouts.requestSeconds: 3 tries of 10s need 30s; the request timeout "
        "would cut the retries short, got 20"
    ]


@pytest.mark.parametrize(
    ("ingress", "fragment"),
    [
        (
            {"retries": {"attempts": 0}},
            "hastack:apps[0].ingress.retries.attempts: must be a whole number from 1 to 10, got 0",
        ),
        (
            {"retries": {"attempts": 1, "conditions": ["timeout"]}},
            "hastack:apps[0].ingress.retries.conditions[0]: must be one of connect-failure, gateway-error, "
            "5xx, reset",
        ),
        (
            {"retries": {"attempts": 1, "conditions": []}},
            "hastack:apps[0].ingress.retries.conditions: must be a list of at least 1 item, each item one of",
        ),
        (
            {"timeouts": {"connectSeconds": 0}},
            "hastack:apps[0].ingress.timeouts.connectSeconds: must be a whole number from 1 to 3600, got 0",
        ),
        (
            {"backendHealth": {"maxEjectedPercent": 101}},
            "ingress.backendHealth.maxEjectedPercent: must be a whole number from 1 to 100, got 101",
        ),
        ({"backendHealth": {"errors": 3}}, "ingress.backendHealth.errors: unknown key"),
    ],
)
def test_bad_values_name_the_key_path(ingress: dict[str, Any], fragment: str) -> None:
    found = problems(gateway_config(**ingress))
    assert any(fragment in p for p in found), found
