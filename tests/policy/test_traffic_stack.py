"""The weighted-traffic stack (a canary beside the stable release, the Gateway API path) passes every
rule, and the edges of weights, parent refs and retries the rules' fixtures do not reach (those are in
tests/policy/rules/).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hastack.wire import UNKNOWN
from tests.policy.k8s_fixtures import (
    DEV,
    PROD,
    all_violations,
    edit,
    set_path,
    violations,
)
from tests.policy.traffic_fixtures import REFS, traffic_stack

Change = Callable[[dict[str, Any]], Any]
POD = ("spec", "template", "spec")


def test_traffic_stack_passes_every_rule_in_every_environment() -> None:
    assert all_violations(traffic_stack(), PROD) == {}
    assert all_violations(traffic_stack(), DEV) == {}


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
    broken = edit(stack, "HTTPRoute", set_path("spec", "parentRefs", 0, "sectionName", value="http"), "web")
    assert violations("httproute-tls-listener", broken) == []


def test_gateway_in_another_namespace_is_found_by_the_parent_ref() -> None:
    from tests.policy.traffic_fixtures import gateway

    stack = [o for o in traffic_stack() if o.kind != "Gateway"] + [gateway("edge")]
    moved = edit(stack, "HTTPRoute", set_path("spec", "parentRefs", 0, "namespace", value="edge"), "web")
    assert violations("httproute-tls-listener", moved) == []
    plain = edit(moved, "HTTPRoute", set_path("spec", "parentRefs", 0, "sectionName", value="http"), "web")
    assert violations("httproute-tls-listener", plain)


def test_unknown_values_during_preview_never_fail() -> None:
    for rule_id, path in (
        ("httproute-backend-exists", (*REFS, 1, "name")),
        ("httproute-weights", (*REFS, 1, "weight")),
        ("httproute-tls-listener", ("spec", "hostnames")),
    ):
        stack = edit(traffic_stack(), "HTTPRoute", set_path(*path, value=UNKNOWN), "web")
        assert violations(rule_id, stack) == [], rule_id


def test_canary_tls_secret_requested_by_the_stable_ingress_counts_as_provided() -> None:
    stack = traffic_stack()
    assert violations("ingress-tls-coverage", stack) == []
    no_issuer = edit(stack, "Ingress", set_path("metadata", "annotations", value={}), "web")
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
