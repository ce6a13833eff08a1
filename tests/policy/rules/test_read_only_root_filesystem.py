"""`read-only-root-filesystem`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/read_only_root_filesystem.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    C0,
    container,
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "read-only-root-filesystem"


PASSING: list[Case] = [
    passes(
        edited(
            good_stack,
            "Deployment",
            "web",
            lambda p: p["spec"]["template"]["spec"].update(
                initContainers=[{**container(p), "name": "migrate"}]
            ),
        ),
        label="an init container read-only too",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(
            good_stack, "Deployment", "web", set_at(f"{C0}.securityContext.readOnlyRootFilesystem", False)
        ),
        "readOnlyRootFilesystem is false",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
