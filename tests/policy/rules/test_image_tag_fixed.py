"""`image-tag-fixed`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/image_tag_fixed.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    C0,
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "image-tag-fixed"


PASSING: list[Case] = [
    passes(
        edited(good_stack, "Deployment", "web", set_at(f"{C0}.image", "postgres:16-alpine")),
        label="a tag led by a version",
    ),
    passes(
        edited(good_stack, "Deployment", "web", set_at(f"{C0}.image", "ghcr.io/acme/web:release-1.2")),
        label="a tag holding a dotted version",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(good_stack, "Deployment", "web", set_at(f"{C0}.image", "ghcr.io/acme/web:main")),
        "image 'ghcr.io/acme/web:main' uses the tag 'main'",
        "moves",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
