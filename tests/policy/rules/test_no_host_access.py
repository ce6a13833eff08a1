"""`no-host-access`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/no_host_access.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    C0,
    POD,
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "no-host-access"


PASSING: list[Case] = [
    passes(
        edited(good_stack, "Deployment", "web", set_at(f"{POD}.volumes", [{"name": "tmp", "emptyDir": {}}])),
        label="an emptyDir, not a host path",
    ),
]

FAILING: list[Case] = [
    fails(edited(good_stack, "Deployment", "web", set_at(f"{POD}.hostNetwork", True)), "hostNetwork: true"),
    fails(
        edited(
            good_stack,
            "Deployment",
            "web",
            set_at(f"{POD}.volumes", [{"name": "docker", "hostPath": {"path": "/var/run"}}]),
        ),
        "volume docker mounts hostPath /var/run",
    ),
    fails(
        edited(good_stack, "Deployment", "web", set_at(f"{C0}.ports.0.hostPort", 8080)), "binds hostPort 8080"
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
