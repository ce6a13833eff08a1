"""`ephemeral-storage-bounded`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/ephemeral_storage_bounded.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    C0,
    container,
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "ephemeral-storage-bounded"


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
        label="an init container bounded like the app",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(good_stack, "Deployment", "web", set_at(f"{C0}.resources.limits", {"memory": "256Mi"})),
        "has no resources.limits.ephemeral-storage",
        "disk pressure",
    ),
    fails(
        edited(
            good_stack,
            "Deployment",
            "web",
            set_at(
                f"{C0}.resources",
                {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "1Gi"}},
            ),
        ),
        "has no resources.requests.ephemeral-storage, resources.limits.ephemeral-storage",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
