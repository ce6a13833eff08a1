"""`priority-class-set`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/priority_class_set.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    DELETE,
    POD,
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "priority-class-set"


PASSING: list[Case] = [
    passes(
        edited(
            good_stack,
            "Deployment",
            "web",
            set_at("metadata.namespace", "kube-system"),
            set_at(f"{POD}.priorityClassName", "system-node-critical"),
        ),
        label="system-* classes in kube-system",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(good_stack, "Deployment", "web", set_at(f"{POD}.priorityClassName", DELETE)),
        "sets no priorityClassName",
        "preempted",
    ),
    fails(
        edited(good_stack, "Deployment", "web", set_at(f"{POD}.priorityClassName", "system-node-critical")),
        "priorityClassName is system-node-critical, reserved for kube-system",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
