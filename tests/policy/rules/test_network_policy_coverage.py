"""`network-policy-coverage`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/network_policy_coverage.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "network-policy-coverage"


PASSING: list[Case] = [
    passes(
        edited(
            good_stack,
            "NetworkPolicy",
            "default-deny",
            set_at("spec.podSelector", {"matchLabels": {"x": "y"}}),
        ),
        config={"network-policy-coverage": {"requireDefaultDeny": False}},
        label="every pod selected; no default deny required",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(
            good_stack,
            "NetworkPolicy",
            "default-deny",
            set_at("spec.podSelector", {"matchLabels": {"x": "y"}}),
        ),
        "namespace shop has no default-deny NetworkPolicy",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
