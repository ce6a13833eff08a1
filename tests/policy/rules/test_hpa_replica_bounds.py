"""`hpa-replica-bounds`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/hpa_replica_bounds.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    DEV,
    good_stack,
    set_at,
    set_path,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes
from tests.policy.traffic_fixtures import traffic_stack

RULE_ID = "hpa-replica-bounds"


PASSING: list[Case] = [
    passes(
        edited(good_stack, "HorizontalPodAutoscaler", "web", set_at("spec.maxReplicas", 4)),
        label="the floor of 3 and room for one more pod",
    ),
    passes(
        edited(good_stack, "HorizontalPodAutoscaler", "web", set_at("spec.minReplicas", 2)),
        config=DEV,
        label="dev's floor of 2",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(good_stack, "HorizontalPodAutoscaler", "web", set_at("spec.minReplicas", 2)),
        "minReplicas is 2",
        "at least 3",
    ),
    fails(
        edited(good_stack, "HorizontalPodAutoscaler", "web", set_at("spec.maxReplicas", 3)),
        "maxReplicas is 3",
        "never scale out",
    ),
    fails(
        edited(
            traffic_stack, "HorizontalPodAutoscaler", "web-canary", set_path("spec", "minReplicas", value=1)
        ),
        "HorizontalPodAutoscaler shop/web-canary spec.minReplicas is 1; at least 3 needed",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
