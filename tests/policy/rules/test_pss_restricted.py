"""`pss-restricted`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/pss_restricted.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    C0,
    DELETE,
    POD,
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "pss-restricted"


PASSING: list[Case] = [
    passes(
        edited(good_stack, "Deployment", "web", set_at(f"{C0}.securityContext.runAsUser", 20000)),
        label="a container's own UID above the floor",
    ),
    passes(
        edited(
            good_stack,
            "Deployment",
            "web",
            set_at(f"{C0}.securityContext.capabilities.add", ["NET_BIND_SERVICE"]),
        ),
        label="NET_BIND_SERVICE added back",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(
            good_stack, "Deployment", "web", set_at(f"{C0}.securityContext.allowPrivilegeEscalation", True)
        ),
        "allowPrivilegeEscalation is true",
        "set it to false",
    ),
    fails(
        edited(good_stack, "Deployment", "web", set_at(f"{POD}.securityContext.runAsNonRoot", DELETE)),
        "may run as root",
    ),
    fails(
        edited(good_stack, "Deployment", "web", set_at(f"{POD}.securityContext.runAsUser", 0)),
        "runs as UID 0",
        ">= 10000",
    ),
    fails(
        edited(
            good_stack,
            "Deployment",
            "web",
            set_at(f"{POD}.securityContext.seccompProfile.type", "Unconfined"),
        ),
        "seccompProfile is Unconfined",
        "RuntimeDefault",
    ),
    fails(
        edited(
            good_stack,
            "Deployment",
            "web",
            set_at(f"{C0}.securityContext.capabilities", {"add": ["NET_ADMIN"]}),
        ),
        "does not drop ALL",
        "adds capabilities ['NET_ADMIN']",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
