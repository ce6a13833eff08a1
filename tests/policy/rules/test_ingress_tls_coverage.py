"""`ingress-tls-coverage`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/ingress_tls_coverage.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    good_stack,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "ingress-tls-coverage"


PASSING: list[Case] = [
    passes(
        edited(
            good_stack,
            "Ingress",
            "web",
            set_at("metadata.annotations", {"hastack.io/external-tls-secrets": "web-tls"}),
        ),
        label="a secret made outside the stack, declared so",
    ),
    passes(
        edited(good_stack, "Ingress", "web", set_at("metadata.annotations", {})),
        config={"ingress-tls-coverage": {"externalSecrets": ["shop/web-tls"]}},
        label="a secret listed in externalSecrets",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(good_stack, "Ingress", "web", set_at("spec.tls.0.hosts", ["other.example.com"])),
        "host web.example.com is not covered by any spec.tls entry",
    ),
    fails(
        edited(good_stack, "Ingress", "web", set_at("metadata.annotations", {})),
        "spec.tls[0].secretName web-tls is not created by this stack",
        "externalSecrets",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
