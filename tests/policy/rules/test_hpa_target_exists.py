"""`hpa-target-exists`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/hpa_target_exists.py)."""

from __future__ import annotations

from typing import Any

from tests.policy.k8s_fixtures import (
    Change,
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "hpa-target-exists"


def live(replicas: int, owner: str) -> Change:
    """The Deployment as the engine shows it after `up`: spec.replicas filled in by the cluster, and
    managedFields saying whether the provider's server-side Apply (or only the HPA) owns it."""

    def change(props: dict[str, Any]) -> None:
        props["spec"]["replicas"] = replicas
        applied: dict[str, Any] = {"f:spec": {"f:template": {}}}
        scale: dict[str, Any] = {"f:spec": {"f:replicas": {}}}
        if owner == "apply":
            applied["f:spec"]["f:replicas"] = {}
        props["metadata"]["managedFields"] = [
            {"manager": "pulumi-kubernetes-1a2b3c4d", "operation": "Apply", "fieldsV1": applied},
            {
                "manager": "kube-controller-manager",
                "operation": "Update",
                "subresource": "scale",
                "fieldsV1": scale,
            },
        ]

    return change


PASSING: list[Case] = [
    passes(
        edited(good_stack, "Deployment", "web", live(3, owner="hpa")),
        label="a live Deployment whose replicas the API server defaulted and the HPA raised",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(good_stack, "HorizontalPodAutoscaler", "web", set_at("spec.scaleTargetRef.name", "web")),
        "scaleTargetRef Deployment/web names no workload in namespace shop",
    ),
    fails(
        edited(good_stack, "Deployment", "web", set_at("spec.replicas", 3)),
        "Deployment shop/web-1a2b3c4d sets spec.replicas 3 but HorizontalPodAutoscaler shop/web owns",
    ),
    fails(
        edited(good_stack, "Deployment", "web", live(3, owner="apply")),
        "Deployment shop/web-1a2b3c4d sets spec.replicas 3 but HorizontalPodAutoscaler shop/web owns its "
        "replica count: remove spec.replicas (the two fight on every apply)",
        label="a live Deployment whose replicas the provider applied",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
