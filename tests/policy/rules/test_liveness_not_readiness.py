"""`liveness-not-readiness`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/liveness_not_readiness.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    container,
    good_stack,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "liveness-not-readiness"


PASSING: list[Case] = [
    passes(
        edited(
            good_stack,
            "Deployment",
            "web",
            lambda p: container(p).update(
                livenessProbe={**container(p)["readinessProbe"], "failureThreshold": 6}
            ),
        ),
        label="the readiness endpoint with looser thresholds",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(
            good_stack,
            "Deployment",
            "web",
            lambda p: container(p).update(livenessProbe=container(p)["readinessProbe"]),
        ),
        "livenessProbe is identical",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
