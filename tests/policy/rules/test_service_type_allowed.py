"""`service-type-allowed`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/service_type_allowed.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "service-type-allowed"


PASSING: list[Case] = [
    passes(
        edited(
            good_stack,
            "Service",
            "web",
            set_at("spec", {"type": "ExternalName", "externalName": "db.example.com"}),
        ),
        label="an ExternalName alias exposes no pod",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(good_stack, "Service", "web", set_at("spec.type", "LoadBalancer")),
        "spec.type is LoadBalancer",
        "allowed: ClusterIP",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
