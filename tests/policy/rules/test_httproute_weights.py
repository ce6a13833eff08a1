"""`httproute-weights`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/httproute_weights.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    DELETE,
    delete_path,
    set_path,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes
from tests.policy.traffic_fixtures import REFS, traffic_stack

RULE_ID = "httproute-weights"


PASSING: list[Case] = [
    passes(
        edited(
            traffic_stack,
            "HTTPRoute",
            "web",
            set_path(*REFS, 0, "weight", value=100),
            set_path(*REFS, 1, "weight", value=0),
        ),
        label="100/0: the canary parked",
    ),
    passes(
        edited(
            traffic_stack,
            "HTTPRoute",
            "web",
            set_path(*REFS, 1, "weight", value=DELETE),
            set_path(*REFS, 0, "weight", value=DELETE),
        ),
        label="no weights at all: equal shares",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(traffic_stack, "HTTPRoute", "web", set_path(*REFS, 1, "weight", value=10)),
        "spec.rules[0].backendRefs weights 95 + 10 add up to 105, not 100",
    ),
    fails(
        edited(traffic_stack, "HTTPRoute", "web", delete_path(*REFS, 1, "weight")),
        "backendRefs[1] has no weight (it counts as 1) beside explicit weights",
    ),
    fails(
        edited(
            traffic_stack,
            "HTTPRoute",
            "web",
            lambda props: [ref.update(weight=0) for ref in props["spec"]["rules"][0]["backendRefs"]],
        ),
        "weights add up to 0, so every request fails (500)",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
