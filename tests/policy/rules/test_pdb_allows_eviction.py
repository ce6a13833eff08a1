"""`pdb-allows-eviction`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/pdb_allows_eviction.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    DELETE,
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "pdb-allows-eviction"


PASSING: list[Case] = [
    passes(
        edited(
            good_stack,
            "PodDisruptionBudget",
            "api",
            set_at("spec.maxUnavailable", DELETE),
            set_at("spec.minAvailable", 2),
        ),
        label="minAvailable 2 of 3: one eviction, two kept",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(good_stack, "PodDisruptionBudget", "api", set_at("spec.maxUnavailable", 2)),
        "lets 2 pod(s) go with 3 replicas (maxUnavailable 2), keeping 1",
        "at least 2 must stay",
    ),
    fails(
        edited(
            good_stack,
            "PodDisruptionBudget",
            "web",
            lambda p: p["spec"].update(minAvailable=3, maxUnavailable=None),
        ),
        "PodDisruptionBudget shop/web allows no eviction: minAvailable 3 with an HPA floor of 3 "
        "replicas; set maxUnavailable: 1",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
