"""`httproute-tls-listener`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/httproute_tls_listener.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    delete_path,
    dropped,
    set_path,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes
from tests.policy.traffic_fixtures import traffic_stack

RULE_ID = "httproute-tls-listener"


PASSING: list[Case] = [
    passes(
        lambda: dropped(traffic_stack(), "Gateway", "public"),
        label="a Gateway outside the stack is not judged",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(
            traffic_stack, "HTTPRoute", "web", set_path("spec", "parentRefs", 0, "sectionName", value="http")
        ),
        "host web.example.com is served by no HTTPS listener of Gateway shop/public",
        "accepting it: http",
    ),
    fails(
        edited(
            traffic_stack, "HTTPRoute", "web", set_path("spec", "parentRefs", 0, "sectionName", value="tls")
        ),
        "sectionName tls names no listener of Gateway shop/public",
    ),
    fails(
        edited(traffic_stack, "HTTPRoute", "web", set_path("spec", "hostnames", value=["shop.example.org"])),
        "host shop.example.org is served by no HTTPS listener",
    ),
    fails(
        edited(
            traffic_stack, "Gateway", "public", delete_path("spec", "listeners", 0, "tls", "certificateRefs")
        ),
        "host web.example.com is served by no HTTPS listener",
        "certificateRef",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
