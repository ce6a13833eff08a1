"""`pdb-coverage`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/pdb_coverage.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    dropped,
    edit,
    good_stack,
    set_at,
    set_path,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes
from tests.policy.traffic_fixtures import traffic_stack

RULE_ID = "pdb-coverage"


PASSING: list[Case] = [
    passes(
        lambda: dropped(
            edit(good_stack(), "Deployment", set_at("spec.replicas", 1), "api"), "PodDisruptionBudget", "api"
        ),
        label="one replica needs no budget",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(
            good_stack,
            "PodDisruptionBudget",
            "web",
            set_at("spec.selector", {"matchLabels": {"app.kubernetes.io/name": "nope"}}),
        ),
        "Deployment shop/web-1a2b3c4d runs an HPA floor of 3 replicas but no PodDisruptionBudget selects",
    ),
    fails(
        edited(
            traffic_stack,
            "PodDisruptionBudget",
            "web-canary",
            set_path("spec", "selector", "matchLabels", "app.kubernetes.io/instance", value="web"),
        ),
        "Deployment shop/web-1a2b3c4d is selected by 2 PodDisruptionBudgets",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
