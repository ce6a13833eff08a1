"""`no-bare-pods`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/no_bare_pods.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    good_stack,
    make,
    pod_spec,
)
from tests.policy.rules.cases import Case, fails, fixture_test, passes

RULE_ID = "no-bare-pods"


PASSING: list[Case] = [
    passes(
        lambda: [
            *good_stack(),
            make(
                "Job",
                "migrate",
                {"metadata": {"namespace": "shop"}, "spec": {"template": {"spec": pod_spec()}}},
            ),
        ],
        label="a Job's pods are recreated by the Job",
    ),
]

FAILING: list[Case] = [
    fails(
        lambda: [make("Pod", "debug", {"metadata": {"namespace": "shop"}, "spec": pod_spec()})],
        "Pod shop/debug is a bare Pod that nothing recreates after a node failure: use a Deployment",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
