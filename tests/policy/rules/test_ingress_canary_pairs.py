"""`ingress-canary-pairs`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/ingress_canary_pairs.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    delete_path,
    set_path,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes
from tests.policy.traffic_fixtures import NGINX, traffic_stack

RULE_ID = "ingress-canary-pairs"


PASSING: list[Case] = [
    passes(
        edited(
            traffic_stack,
            "Ingress",
            "web-canary",
            set_path("metadata", "annotations", NGINX + "canary-weight", value="0"),
        ),
        label="weight 0 keeps the canary without traffic",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(
            traffic_stack,
            "Ingress",
            "web-canary",
            set_path("metadata", "annotations", NGINX + "canary-weight", value="150"),
        ),
        "Ingress shop/web-canary nginx.ingress.kubernetes.io/canary-weight is '150'",
    ),
    fails(
        edited(
            traffic_stack,
            "Ingress",
            "web-canary",
            delete_path("metadata", "annotations", NGINX + "canary-weight"),
        ),
        "is a canary without nginx.ingress.kubernetes.io/canary-weight",
    ),
    fails(
        edited(
            traffic_stack,
            "Ingress",
            "web-canary",
            set_path("spec", "rules", 0, "host", value="beta.example.com"),
        ),
        "is a canary for beta.example.com/, which needs exactly one primary",
        "(found: none)",
    ),
    fails(
        edited(
            traffic_stack,
            "Ingress",
            "web",
            set_path("metadata", "annotations", NGINX + "canary", value="true"),
        ),
        "is one of 2 canaries for web.example.com/",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
