"""`resources-specified`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/resources_specified.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    C0,
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "resources-specified"


PASSING: list[Case] = [
    passes(
        edited(
            good_stack,
            "Deployment",
            "web",
            set_at(
                f"{C0}.resources",
                {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
            ),
        ),
        label="no cpu limit: not required",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(good_stack, "Deployment", "web", set_at(f"{C0}.resources", {"limits": {"memory": "1Gi"}})),
        "no resources.requests.cpu, resources.requests.memory",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
