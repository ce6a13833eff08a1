"""`image-pinned`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/image_pinned.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    C0,
    DEV,
    container,
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes
from tests.policy.traffic_fixtures import traffic_stack

RULE_ID = "image-pinned"


PASSING: list[Case] = [
    passes(
        edited(good_stack, "Deployment", "web", set_at(f"{C0}.image", "ghcr.io/acme/web:1.2.3")),
        config=DEV,
        label="a version tag where no digest is required",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(good_stack, "Deployment", "web", set_at(f"{C0}.image", "nginx")), "image 'nginx' has no tag"
    ),
    fails(
        edited(good_stack, "Deployment", "web", set_at(f"{C0}.image", "ghcr.io/acme/web:latest")),
        ":latest tag",
    ),
    fails(
        edited(good_stack, "Deployment", "web", set_at(f"{C0}.image", "ghcr.io/acme/web:1.2.3")),
        "not pinned by digest",
    ),
    fails(
        edited(
            traffic_stack,
            "Deployment",
            "web-canary",
            lambda props: container(props).update(image="ghcr.io/acme/web:latest"),
        ),
        "web-canary-1a2b3c4d",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
