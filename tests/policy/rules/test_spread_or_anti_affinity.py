"""`spread-or-anti-affinity`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/spread_or_anti_affinity.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    DELETE,
    DEV,
    POD,
    POD_PATH,
    good_stack,
    set_at,
    set_path,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes
from tests.policy.traffic_fixtures import traffic_stack

RULE_ID = "spread-or-anti-affinity"

ZONE_ANTI_AFFINITY = {
    "podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [
            {
                "topologyKey": "topology.kubernetes.io/zone",
                "labelSelector": {
                    "matchLabels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web"}
                },
            }
        ]
    }
}
"""One pod per zone: stricter than any minDomains."""


PASSING: list[Case] = [
    passes(
        edited(
            good_stack, "Deployment", "web", set_at(f"{POD}.topologySpreadConstraints.0.minDomains", DELETE)
        ),
        config=DEV,
        label="minDomains is checked only where the profile asks",
    ),
    passes(
        edited(
            good_stack,
            "Deployment",
            "web",
            set_at(f"{POD}.topologySpreadConstraints.0.minDomains", DELETE),
            set_at(f"{POD}.affinity", ZONE_ANTI_AFFINITY),
        ),
        label="required anti-affinity on the zone",
    ),
    passes(
        edited(
            good_stack,
            "Deployment",
            "api",
            set_at("spec.replicas", 1),
            set_at(f"{POD}.topologySpreadConstraints", []),
        ),
        label="one replica: nothing to spread",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(good_stack, "Deployment", "web", set_at(f"{POD}.topologySpreadConstraints", DELETE)),
        "not spread over topology.kubernetes.io/zone, kubernetes.io/hostname",
    ),
    fails(
        edited(
            good_stack,
            "Deployment",
            "web",
            set_at(f"{POD}.topologySpreadConstraints.0.whenUnsatisfiable", "ScheduleAnyway"),
        ),
        "spread over topology.kubernetes.io/zone is not enforced",
        "DoNotSchedule",
    ),
    fails(
        edited(
            good_stack,
            "Deployment",
            "web",
            set_at(f"{POD}.topologySpreadConstraints.0.labelSelector", {"matchLabels": {"app": "other"}}),
        ),
        "not spread over topology.kubernetes.io/zone",
    ),
    fails(
        edited(
            good_stack, "Deployment", "web", set_at(f"{POD}.topologySpreadConstraints.0.minDomains", DELETE)
        ),
        "hard spread over topology.kubernetes.io/zone has minDomains unset",
        "set minDomains: 3",
    ),
    fails(
        edited(good_stack, "Deployment", "web", set_at(f"{POD}.topologySpreadConstraints.0.minDomains", 2)),
        "has minDomains 2",
        "fewer than 3 domains",
    ),
    fails(
        edited(good_stack, "Deployment", "web", set_at(f"{POD}.topologySpreadConstraints.1.minDomains", 2)),
        "spread over kubernetes.io/hostname sets minDomains with whenUnsatisfiable ScheduleAnyway",
    ),
    fails(
        edited(
            traffic_stack,
            "Deployment",
            "web-canary",
            set_path(*POD_PATH, "topologySpreadConstraints", value=[]),
        ),
        "Deployment shop/web-canary-1a2b3c4d pods are not spread over topology.kubernetes.io/zone",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
