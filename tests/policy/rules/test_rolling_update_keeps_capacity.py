"""`rolling-update-keeps-capacity`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/rolling_update_keeps_capacity.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    DELETE,
    good_stack,
    set_at,
    set_path,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes
from tests.policy.traffic_fixtures import traffic_stack

RULE_ID = "rolling-update-keeps-capacity"


PASSING: list[Case] = [
    passes(
        edited(
            good_stack,
            "Deployment",
            "api",
            set_at("spec.strategy.rollingUpdate", {"maxUnavailable": 0, "maxSurge": 1}),
        ),
        label="no pod down, a surge of one",
    ),
    passes(
        edited(good_stack, "Deployment", "api", set_at("spec.strategy.rollingUpdate.maxUnavailable", "10%")),
        label="10% of 3 pods rounds down to none",
    ),
]

FAILING: list[Case] = [
    fails(edited(good_stack, "Deployment", "web", set_at("spec.strategy", {"type": "Recreate"})), "Recreate"),
    fails(
        edited(good_stack, "Deployment", "api", set_at("spec.strategy.rollingUpdate.maxUnavailable", "50%")),
        "maxUnavailable 50% takes 1 of 3 pods",
        "at most 0",
    ),
    fails(
        edited(good_stack, "Deployment", "web", set_at("spec.strategy", DELETE)),
        "maxUnavailable is 25%",
        "no fixed replica count",
    ),
    fails(
        edited(
            traffic_stack,
            "Deployment",
            "web-canary",
            set_path("spec", "strategy", value={"type": "Recreate"}),
        ),
        "Deployment shop/web-canary-1a2b3c4d spec.strategy.type is Recreate",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
