"""`hpa-metrics-have-requests`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/hpa_metrics_have_requests.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    C0,
    edit,
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "hpa-metrics-have-requests"


PASSING: list[Case] = [
    passes(
        lambda: edit(
            edit(
                good_stack(),
                "HorizontalPodAutoscaler",
                set_at("spec.metrics.0.resource.name", "memory"),
                "web",
            ),
            "Deployment",
            set_at(f"{C0}.resources.requests", {"memory": "128Mi"}),
            "web",
        ),
        label="scales on memory, requests memory only",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(good_stack, "Deployment", "web", set_at(f"{C0}.resources.requests", {"memory": "1Gi"})),
        "scales on cpu Utilization but container web",
        "no resources.requests.cpu",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
