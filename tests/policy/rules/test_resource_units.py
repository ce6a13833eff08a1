"""`resource-units`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/resource_units.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    C0,
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "resource-units"


PASSING: list[Case] = [
    passes(
        edited(
            good_stack, "Deployment", "web", set_at(f"{C0}.resources.requests", {"cpu": 1, "memory": 1048576})
        ),
        label="plain numbers: one core, one MiB (the wire makes them floats)",
    ),
    passes(
        edited(good_stack, "Deployment", "web", set_at(f"{C0}.resources.limits.cpu", 0.25)),
        label="a quarter of a core",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(good_stack, "Deployment", "web", set_at(f"{C0}.resources.limits.memory", "512m")),
        "resources.limits.memory is 512m",
        "the unit 'm' makes no sense for memory",
        "512Mi, 1Gi",
    ),
    fails(
        edited(good_stack, "Deployment", "web", set_at(f"{C0}.resources.requests.cpu", "1Gi")),
        "resources.requests.cpu is 1Gi",
        "cores or millicores, such as 0.5, 2 or 250m",
    ),
    fails(
        edited(good_stack, "Deployment", "web", set_at(f"{C0}.resources.requests.ephemeral-storage", 0.5)),
        "resources.requests.ephemeral-storage is 0.5",
        "whole number of bytes",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
