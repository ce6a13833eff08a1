"""`min-replicas`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/min_replicas.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    DELETE,
    DEV,
    good_stack,
    set_at,
    set_path,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "min-replicas"


PASSING: list[Case] = [
    passes(
        edited(
            good_stack,
            "Deployment",
            "api",
            set_at("spec.replicas", 1),
            set_path("spec", "template", "metadata", "labels", "app.kubernetes.io/name", value="loadgen"),
        ),
        label="a workload no Service selects (a load generator)",
    ),
    passes(
        edited(good_stack, "Deployment", "api", set_at("spec.replicas", 2)),
        config=DEV,
        label="dev's floor of 2",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(good_stack, "Deployment", "api", set_at("spec.replicas", 2)),
        "Deployment shop/api-1a2b3c4d spec.replicas is 2",
        "at least 3",
    ),
    fails(
        edited(good_stack, "Deployment", "api", set_at("spec.replicas", DELETE)),
        "spec.replicas is unset (defaults to 1)",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
