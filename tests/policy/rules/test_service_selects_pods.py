"""`service-selects-pods`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/service_selects_pods.py)."""

from __future__ import annotations

from typing import Any

from tests.policy.k8s_fixtures import (
    edit,
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "service-selects-pods"


def without_container_ports(props: dict[str, Any]) -> None:
    for container in props["spec"]["template"]["spec"]["containers"]:
        container.pop("ports", None)
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            if probe in container:
                container[probe]["httpGet"]["port"] = 8080


PASSING: list[Case] = [
    passes(
        lambda: edit(
            edit(good_stack(), "Deployment", without_container_ports, "web"),
            "Service",
            set_at("spec.ports.0.targetPort", 8080),
            "web",
        ),
        label="a number reaches the port whether or not a container declares it",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(good_stack, "Service", "web", set_at("spec.selector", {"app.kubernetes.io/name": "wbe"})),
        "spec.selector {app.kubernetes.io/name=wbe} selects the pods of no workload",
    ),
    fails(
        edited(good_stack, "Service", "web", set_at("spec.ports.0.targetPort", "htpp")),
        "targetPort 'htpp' matches no container port",
        "declared: http:8080",
    ),
    fails(
        edited(good_stack, "Service", "web", set_at("spec.ports.0.targetPort", 9090)),
        "targetPort 9090 matches no container port",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
