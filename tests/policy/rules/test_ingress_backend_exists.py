"""`ingress-backend-exists`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/ingress_backend_exists.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "ingress-backend-exists"


PASSING: list[Case] = [
    passes(
        edited(
            good_stack,
            "Ingress",
            "web",
            set_at("spec.rules.0.http.paths.0.backend.service.port", {"number": 80}),
        ),
        label="the Service port by number",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(
            good_stack, "Ingress", "web", set_at("spec.rules.0.http.paths.0.backend.service.name", "webb")
        ),
        "backend names Service webb, which is not in namespace shop",
    ),
    fails(
        edited(
            good_stack,
            "Ingress",
            "web",
            set_at("spec.rules.0.http.paths.0.backend.service.port", {"number": 8080}),
        ),
        "backend port.number 8080 is not a port of Service shop/web",
        "ports: http:80",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
