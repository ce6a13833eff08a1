"""`probes-present`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/probes_present.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    C0,
    DELETE,
    DEV,
    container,
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes
from tests.policy.traffic_fixtures import traffic_stack

RULE_ID = "probes-present"


PASSING: list[Case] = [
    passes(
        edited(good_stack, "Deployment", "web", set_at(f"{C0}.startupProbe", DELETE)),
        config=DEV,
        label="no startup probe where the profile asks for none",
    ),
    passes(
        edited(
            good_stack,
            "Deployment",
            "web",
            lambda p: p["spec"]["template"]["spec"].update(
                initContainers=[{"name": "migrate", "image": "ghcr.io/acme/migrate:1.0.0"}]
            ),
        ),
        label="init containers run to completion: no probes",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(good_stack, "Deployment", "web", set_at(f"{C0}.readinessProbe", DELETE)),
        "container web",
        "no readinessProbe",
    ),
    fails(
        edited(
            traffic_stack, "Deployment", "web-canary", lambda props: container(props).pop("readinessProbe")
        ),
        "Deployment shop/web-canary-1a2b3c4d container web has no readinessProbe",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
