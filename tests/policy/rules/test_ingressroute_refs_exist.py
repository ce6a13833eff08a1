"""`ingressroute-refs-exist`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/ingressroute_refs_exist.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import set_path
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes
from tests.policy.traffic_fixtures import ROUTE_MIDDLEWARES, ROUTE_SERVICE, traefik_stack

RULE_ID = "ingressroute-refs-exist"


PASSING: list[Case] = [
    passes(traefik_stack, label="hastack's routes: Service, port and Middlewares of the stack"),
    passes(
        edited(traefik_stack, "IngressRoute", "web", set_path(*ROUTE_SERVICE, "port", value="http")),
        label="the Service port by name",
    ),
    passes(
        edited(
            traefik_stack,
            "IngressRoute",
            "web",
            set_path(*ROUTE_SERVICE, value={"kind": "TraefikService", "name": "web-weighted"}),
        ),
        label="a TraefikService is Traefik's to resolve",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(traefik_stack, "IngressRoute", "web", set_path(*ROUTE_SERVICE, "name", value="wbe")),
        "IngressRoute shop/web-route spec.routes[0].services[0] names Service shop/wbe",
        "which is not in this stack",
    ),
    fails(
        edited(traefik_stack, "IngressRoute", "web", set_path(*ROUTE_SERVICE, "port", value=8080)),
        "services[0] port 8080 is not a port of Service shop/web (ports: http:80)",
    ),
    fails(
        edited(
            traefik_stack, "IngressRoute", "web", set_path(*ROUTE_MIDDLEWARES, 0, "name", value="web-limit")
        ),
        "spec.routes[0].middlewares[0] names Middleware shop/web-limit",
        "Traefik drops the whole route",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
