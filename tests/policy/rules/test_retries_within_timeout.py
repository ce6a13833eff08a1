"""`retries-within-timeout`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/retries_within_timeout.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    set_path,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes
from tests.policy.traffic_fixtures import traffic_stack

RULE_ID = "retries-within-timeout"


PASSING: list[Case] = [
    passes(
        edited(
            traffic_stack,
            "BackendTrafficPolicy",
            "web",
            set_path("spec", "timeout", "http", "requestTimeout", value="15s"),
        ),
        label="3 tries of 5s in 15s exactly",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(
            traffic_stack,
            "BackendTrafficPolicy",
            "web",
            set_path("spec", "timeout", "http", "requestTimeout", value="14s"),
        ),
        "BackendTrafficPolicy shop/web spec.retry allows 3 tries of 5s (15s)",
        "requestTimeout is 14s",
    ),
    fails(
        edited(
            traffic_stack,
            "BackendTrafficPolicy",
            "web",
            set_path("spec", "retry", "perRetry", "timeout", value="10s500ms"),
        ),
        "3 tries of 10.5s (31.5s)",
        "requestTimeout is 30s",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
