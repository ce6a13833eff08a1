"""`ingressroute-tls`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/ingressroute_tls.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import delete_path, set_path
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes
from tests.policy.traffic_fixtures import ROUTE_MIDDLEWARES, traefik_stack

RULE_ID = "ingressroute-tls"


PASSING: list[Case] = [
    passes(traefik_stack, label="TLS with the Certificate's Secret, plain HTTP only redirects"),
    passes(
        edited(traefik_stack, "IngressRoute", "web", set_path("spec", "tls", value={"certResolver": "le"})),
        label="a certificate resolver",
    ),
    passes(
        edited(traefik_stack, "IngressRoute", "web", set_path("spec", "tls", "secretName", value="wild-tls")),
        config={"ingressroute-tls": {"externalSecrets": ["shop/wild-tls"]}},
        label="a secret listed as external",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(traefik_stack, "IngressRoute", "web", delete_path("spec", "tls")),
        "IngressRoute shop/web-route spec.routes[0] (Host(`web.example.com`) && PathPrefix(`/`))",
        "is served over plain HTTP",
    ),
    fails(
        edited(traefik_stack, "IngressRoute", "web-redirect", delete_path(*ROUTE_MIDDLEWARES)),
        "IngressRoute shop/web-redirect spec.routes[0]",
        "served over plain HTTP",
    ),
    fails(
        edited(traefik_stack, "IngressRoute", "web", set_path("spec", "tls", value={})),
        "spec.tls has neither secretName nor certResolver",
    ),
    fails(
        edited(traefik_stack, "IngressRoute", "web", set_path("spec", "tls", "secretName", value="wild-tls")),
        "spec.tls.secretName wild-tls is not created by this stack",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
