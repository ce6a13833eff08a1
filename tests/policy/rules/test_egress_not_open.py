"""`egress-not-open`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/egress_not_open.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "egress-not-open"


DATABASE_EGRESS = {
    "to": [{"ipBlock": {"cidr": "10.40.0.0/24", "except": ["10.40.0.0/28"]}}],
    "ports": [{"port": 5432}],
}
NAMED_DESTINATIONS = [
    DATABASE_EGRESS,
    {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "payments"}}}]},
    {"to": [{"namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "Exists"}]}}]},
    {"to": [{"podSelector": {"matchLabels": {"app": "cache"}}}]},
]
OPEN_EGRESS = {"to": [{"ipBlock": {"cidr": "::/0"}}], "ports": [{"port": 443}]}


PASSING: list[Case] = [
    passes(
        edited(good_stack, "NetworkPolicy", "web-allow", set_at("spec.egress", NAMED_DESTINATIONS)),
        label="named blocks, namespaces and pods",
    ),
    passes(
        edited(
            good_stack,
            "NetworkPolicy",
            "web-allow",
            set_at("spec.egress", [OPEN_EGRESS]),
            set_at(
                "metadata.annotations", {"hastack.dev/open-egress-reason": "payment provider rotates IPs"}
            ),
        ),
        label="open egress with its reason",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(
            good_stack,
            "NetworkPolicy",
            "web-allow",
            set_at("spec.egress", [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443}]}]),
        ),
        "NetworkPolicy shop/web-allow spec.egress[0] allows every address (ipBlock 0.0.0.0/0)",
        "open-egress-reason",
    ),
    fails(
        edited(
            good_stack,
            "NetworkPolicy",
            "web-allow",
            set_at("spec.egress", [{"to": [{"namespaceSelector": {}, "podSelector": {}}]}]),
        ),
        "spec.egress[0] allows every namespace (namespaceSelector {})",
    ),
    fails(
        edited(
            good_stack,
            "NetworkPolicy",
            "web-allow",
            set_at("spec.egress", [{"ports": [{"port": 53, "protocol": "UDP"}]}]),
        ),
        "spec.egress[0] allows every destination (no `to`)",
    ),
    fails(
        edited(
            good_stack,
            "NetworkPolicy",
            "web-allow",
            set_at("spec.egress", [OPEN_EGRESS]),
            set_at("metadata.annotations", {"hastack.dev/open-egress-reason": " "}),
        ),
        "spec.egress[0] allows every address (ipBlock ::/0)",
        label="a blank reason is no reason",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
