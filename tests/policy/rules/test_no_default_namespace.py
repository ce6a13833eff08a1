"""`no-default-namespace`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/no_default_namespace.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    DELETE,
    good_stack,
    make,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "no-default-namespace"


PASSING: list[Case] = [
    passes(lambda: [make("Namespace", "other", {"metadata": {}})], label="a Namespace is cluster-scoped"),
]

FAILING: list[Case] = [
    fails(
        edited(good_stack, "Service", "web", set_at("metadata.namespace", DELETE)),
        "Service web is in namespace default",
        "no metadata.namespace",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
