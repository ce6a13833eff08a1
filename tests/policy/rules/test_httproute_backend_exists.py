"""`httproute-backend-exists`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/httproute_backend_exists.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    delete_path,
    set_path,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes
from tests.policy.traffic_fixtures import REFS, traffic_stack

RULE_ID = "httproute-backend-exists"


PASSING: list[Case] = [
    passes(
        edited(traffic_stack, "HTTPRoute", "web", set_path(*REFS, 0, "namespace", value="shop")),
        label="the route's own namespace named explicitly",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(traffic_stack, "HTTPRoute", "web", set_path(*REFS, 1, "name", value="web-canry")),
        "HTTPRoute shop/web-route spec.rules[0].backendRefs[1] names Service shop/web-canry",
        "not in",
    ),
    fails(
        edited(traffic_stack, "HTTPRoute", "web", set_path(*REFS, 0, "port", value=8080)),
        "backendRefs[0] port 8080 is not a port of Service shop/web (ports: 80)",
    ),
    fails(
        edited(traffic_stack, "HTTPRoute", "web", delete_path(*REFS, 0, "port")),
        "backendRefs[0] has no port",
        "(80)",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
