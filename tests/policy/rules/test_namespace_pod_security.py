"""`namespace-pod-security`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/namespace_pod_security.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "namespace-pod-security"


PASSING: list[Case] = [
    passes(
        edited(
            good_stack,
            "Namespace",
            "shop",
            set_at("metadata.labels", {"pod-security.kubernetes.io/enforce": "baseline"}),
        ),
        config={"namespace-pod-security": {"level": "baseline"}},
        label="the level the config asks for",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(good_stack, "Namespace", "shop", set_at("metadata.labels", {})),
        "pod-security.kubernetes.io/enforce is unset",
        "restricted",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
