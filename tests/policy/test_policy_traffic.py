"""The weighted-traffic rules (HTTPRoute backends, TLS listeners, weights; ingress-nginx canary
pairs) with passing and failing fixtures, and proof that a canary Deployment is held to the same HA
rules as the stable one by the existing catalog.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hastack.wire import UNKNOWN
from tests.policy.k8s_fixtures import DEV, PROD, all_violations, container, edit, violations
from tests.policy.traffic_fixtures import NGINX, traffic_stack

Change = Callable[[dict[str, Any]], Any]
POD = ("spec", "template", "spec")


def _set(*path: str | int, value: Any) -> Change:
    def change(props: dict[str, Any]) -> None:
        node: Any = props
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return change


def _delete(*path: str | int) -> Change:
    def change(props: dict[str, Any]) -> None:
        node: Any = props
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return change


REFS = ("spec", "rules", 0, "backendRefs")

# (rule, kind, pulumi name, change, message parts)
TRAFFIC_FAILING: list[tuple[str, str, str, Change, list[str]]] = [
    (
        "retries-within-timeout",
        "BackendTrafficPolicy",
        "web",
        _set("spec", "timeout", "http", "requestTimeout", value="14s"),
        [
            "BackendTrafficPolicy shop/web spec.retry allows 3 tries of 5s (15s)",
            "requestTimeout is 14s",
        ],
    ),
    (
        "retries-within-timeout",
        "BackendTrafficPolicy",
        "web",
        _set("spec", "retry", "perRetry", "timeout", value="10s500ms"),
        ["3 tries of 10.5s (31.5s)", "requestTimeout is 30s"],
    ),
    (
        "httproute-backend-exists",
        "HTTPRoute",
        "web",
        _set(*REFS, 1, "name", value="web-canry"),
        ["HTTPRoute shop/web-route spec.rules[0].backendRefs[1] names Service shop/web-canry", "not in"],
    ),
    (
        "httproute-backend-exists",
        "HTTPRoute",
        "web",
        _set(*REFS, 0, "port", value=8080),
        ["backendRefs[0] port 8080 is not a port of Service shop/web (ports: 80)"],
    ),
    (
        "httproute-backend-exists",
        "HTTPRoute",
        "web",
        _delete(*REFS, 0, "port"),
        ["backendRefs[0] has no port", "(80)"],
    ),
    (
        "httproute-tls-listener",
        "HTTPRoute",
        "web",
        _set("spec", "parentRefs", 0, "sectionName", value="http"),
        ["host web.example.com is served by no HTTPS listener of Gateway shop/public", "accepting it: http"],
    ),
    (
        "httproute-tls-listener",
        "HTTPRoute",
        "web",
        _set("spec", "parentRefs", 0, "sectionName", value="tls"),
        ["sectionName tls names no listener of Gateway shop/public"],
    ),
    (
        "httproute-tls-listener",
        "HTTPRoute",
        "web",
        _set("spec", "hostnames", value=["shop.example.org"]),
        ["host shop.example.org is served by no HTTPS listener"],
    ),
    (
        "httproute-tls-listener",
        "Gateway",
        "public",
        _delete("spec", "listeners", 0, "tls", "certificateRefs"),
        ["host web.example.com is served by no HTTPS listener", "certificateRef"],
    ),
    (
        "httproute-weights",
        "HTTPRoute",
        "web",
        _set(*REFS, 1, "weight", value=10),
        ["spec.rules[0].backendRefs weights 95 + 10 add up to 105, not 100"],
    ),
    (
        "httproute-weights",
        "HTTPRoute",
        "web",
        _delete(*REFS, 1, "weight"),
        ["backendRefs[1] has no weight (it counts as 1) beside explicit weights"],
    ),
    (
        "httproute-weights",
        "HTTPRoute",
        "web",
        lambda props: [ref.update(weight=0) for ref in props["spec"]["rules"][0]["backendRefs"]],
        ["weights add up to 0, so every request fails (500)"],
    ),
    (
        "ingress-canary-pairs",
        "Ingress",
        "web-canary",
        _set("metadata", "annotations", NGINX + "canary-weight", value="150"),
        ["Ingress shop/web-canary nginx.ingress.kubernetes.io/canary-weight is '150'"],
    ),
    (
        "ingress-canary-pairs",
        "Ingress",
        "web-canary",
        _delete("metadata", "annotations", NGINX + "canary-weight"),
        ["is a canary without nginx.ingress.kubernetes.io/canary-weight"],
    ),
    (
        "ingress-canary-pairs",
        "Ingress",
        "web-canary",
        _set("spec", "rules", 0, "host", value="beta.example.com"),
        ["is a canary for beta.example.com/, which needs exactly one primary", "(found: none)"],
    ),
    (
        "ingress-canary-pairs",
        "Ingress",
        "web",
        _set("metadata", "annotations", NGINX + "canary", value="true"),
        ["is one of 2 canaries for web.example.com/"],
    ),
]

# A canary Deployment is judged by the existing HA and security rules, exactly like the stable one.
CANARY_HA_FAILING: list[tuple[str, str, str, Change, list[str]]] = [
    (
        "hpa-replica-bounds",
        "HorizontalPodAutoscaler",
        "web-canary",
        _set("spec", "minReplicas", value=1),
        ["HorizontalPodAutoscaler shop/web-canary spec.minReplicas is 1; at least 3 needed"],
    ),
    (
        "probes-present",
        "Deployment",
        "web-canary",
        lambda props: container(props).pop("readinessProbe"),
        ["Deployment shop/web-canary-1a2b3c4d container web has no readinessProbe"],
    ),
    (
        "image-pinned",
        "Deployment",
        "web-canary",
        lambda props: container(props).update(image="ghcr.io/acme/web:latest"),
        ["web-canary-1a2b3c4d"],
    ),
    (
        "pdb-coverage",
        "PodDisruptionBudget",
        "web-canary",
        _set("spec", "selector", "matchLabels", "app.kubernetes.io/instance", value="web"),
        ["Deployment shop/web-1a2b3c4d is selected by 2 PodDisruptionBudgets"],
    ),
    (
        "spread-or-anti-affinity",
        "Deployment",
        "web-canary",
        _set(*POD, "topologySpreadConstraints", value=[]),
        ["Deployment shop/web-canary-1a2b3c4d pods are not spread over topology.kubernetes.io/zone"],
    ),
    (
        "rolling-update-keeps-capacity",
        "Deployment",
        "web-canary",
        _set("spec", "strategy", value={"type": "Recreate"}),
        ["Deployment shop/web-canary-1a2b3c4d spec.strategy.type is Recreate"],
    ),
]


def _case_id(case: tuple[str, str, str, Change, list[str]]) -> str:
    return f"{case[0]}:{case[4][0][:50]}"


def test_traffic_stack_passes_every_rule_in_every_environment() -> None:
    assert all_violations(traffic_stack(), PROD) == {}
    assert all_violations(traffic_stack(), DEV) == {}


@pytest.mark.parametrize(
    "case",
    TRAFFIC_FAILING + CANARY_HA_FAILING,
    ids=[_case_id(c) for c in TRAFFIC_FAILING + CANARY_HA_FAILING],
)
def test_failing_fixture_reports_the_rule(case: tuple[str, str, str, Change, list[str]]) -> None:
    rule_id, kind, name, change, parts = case
    messages = violations(rule_id, edit(traffic_stack(), kind, change, name))
    assert messages, f"{rule_id} reported nothing"
    text = "\n".join(messages)
    for part in parts:
        assert part in text, text


@pytest.mark.parametrize(
    ("weights", "total"), [((0, 100), 100), ((100, 0), 100), ((90, 10), 100), ((1, 3), 0)]
)
def test_weights_at_the_edges_pass(weights: tuple[int, int], total: int) -> None:
    def change(props: dict[str, Any]) -> None:
        for ref, weight in zip(props["spec"]["rules"][0]["backendRefs"], weights, strict=True):
            ref["weight"] = weight

    stack = edit(traffic_stack(), "HTTPRoute", change, "web")
    settings = {**PROD, "httproute-weights": {"weightTotal": total}}
    assert violations("httproute-weights", stack, settings) == []


def test_single_unweighted_backend_is_fine() -> None:
    def stable_only(props: dict[str, Any]) -> None:
        props["spec"]["rules"][0]["backendRefs"] = [{"kind": "Service", "name": "web", "port": 80}]

    stack = edit(traffic_stack(), "HTTPRoute", stable_only, "web")
    assert violations("httproute-weights", stack) == []


def test_gateway_outside_the_stack_is_not_judged() -> None:
    stack = [o for o in traffic_stack() if o.kind != "Gateway"]
    broken = edit(stack, "HTTPRoute", _set("spec", "parentRefs", 0, "sectionName", value="http"), "web")
    assert violations("httproute-tls-listener", broken) == []


def test_gateway_in_another_namespace_is_found_by_the_parent_ref() -> None:
    from tests.policy.traffic_fixtures import gateway

    stack = [o for o in traffic_stack() if o.kind != "Gateway"] + [gateway("edge")]
    moved = edit(stack, "HTTPRoute", _set("spec", "parentRefs", 0, "namespace", value="edge"), "web")
    assert violations("httproute-tls-listener", moved) == []
    plain = edit(moved, "HTTPRoute", _set("spec", "parentRefs", 0, "sectionName", value="http"), "web")
    assert violations("httproute-tls-listener", plain)


def test_unknown_values_during_preview_never_fail() -> None:
    for rule_id, path in (
        ("httproute-backend-exists", (*REFS, 1, "name")),
        ("httproute-weights", (*REFS, 1, "weight")),
        ("httproute-tls-listener", ("spec", "hostnames")),
    ):
        stack = edit(traffic_stack(), "HTTPRoute", _set(*path, value=UNKNOWN), "web")
        assert violations(rule_id, stack) == [], rule_id


def test_canary_tls_secret_requested_by_the_stable_ingress_counts_as_provided() -> None:
    stack = traffic_stack()
    assert violations("ingress-tls-coverage", stack) == []
    no_issuer = edit(stack, "Ingress", _set("metadata", "annotations", value={}), "web")
    messages = violations("ingress-tls-coverage", no_issuer)
    assert any("Ingress shop/web-canary" in m and "not created by this stack" in m for m in messages)


def test_retries_within_timeout_counts_the_default_retries_and_passes_what_fits() -> None:
    from hastack_policy.rules.retries_within_timeout import duration_seconds

    assert violations("retries-within-timeout", traffic_stack()) == []

    def default_retries(props: dict[str, Any]) -> None:
        del props["spec"]["retry"]["numRetries"]  # Envoy Gateway's default: 2 retries, so 3 tries
        props["spec"]["retry"]["perRetry"]["timeout"] = "11s"

    assert violations(
        "retries-within-timeout", edit(traffic_stack(), "BackendTrafficPolicy", default_retries, "web")
    )
    assert [duration_seconds(t) for t in ("1m30s", "500ms", "1h", "5", "", None)] == [
        90,
        0.5,
        3600,
        None,
        None,
        None,
    ]
