"""`pdb-policy-allows-disruption`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/pdb_policy_allows_disruption.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    DELETE,
    DEV,
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "pdb-policy-allows-disruption"


PASSING: list[Case] = [
    passes(
        edited(good_stack, "PodDisruptionBudget", "web", set_at("spec.maxUnavailable", "25%")),
        label="a percentage that allows a pod",
    ),
    passes(
        edited(good_stack, "PodDisruptionBudget", "web", set_at("spec.unhealthyPodEvictionPolicy", DELETE)),
        config=DEV,
        label="dev does not require AlwaysAllow",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(good_stack, "PodDisruptionBudget", "web", set_at("spec.maxUnavailable", 0)),
        "maxUnavailable is 0",
    ),
    fails(
        edited(good_stack, "PodDisruptionBudget", "web", set_at("spec.unhealthyPodEvictionPolicy", DELETE)),
        "unhealthyPodEvictionPolicy is unset",
        "AlwaysAllow",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
