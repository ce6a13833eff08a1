"""`probe-ports-exist`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/probe_ports_exist.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    C0,
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "probe-ports-exist"


PASSING: list[Case] = [
    passes(
        edited(good_stack, "Deployment", "web", set_at(f"{C0}.livenessProbe.httpGet.port", 8080)),
        label="a probe port by number",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(good_stack, "Deployment", "web", set_at(f"{C0}.livenessProbe.httpGet.port", "metrics")),
        "livenessProbe.httpGet.port 'metrics'",
        "declared: http",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
