"""A compliant stack with weighted traffic: the good stack plus a canary release of web (its own
Deployment, Service, PDB, HPA, NetworkPolicy), an ingress-nginx canary Ingress for it, and the
Gateway API path (a Gateway with HTTPS and HTTP listeners, a weighted HTTPRoute, a redirect route).
"""

from __future__ import annotations

from typing import Any

from hastack_policy.objects import K8sObject
from tests.policy.k8s_fixtures import dropped, edit, good_app, good_stack, make

NGINX = "nginx.ingress.kubernetes.io/"
GATEWAY_REF = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public"}
REFS = ("spec", "rules", 0, "backendRefs")
"""The backendRefs of web's weighted route."""


def _as_nginx_canary(props: dict[str, Any]) -> None:
    props["metadata"]["annotations"] = {
        NGINX + "canary": "true",
        NGINX + "canary-weight": "5",
        NGINX + "canary-weight-total": "100",
    }


def gateway(namespace: str = "shop") -> K8sObject:
    return make(
        "Gateway",
        "public",
        {
            "metadata": {"namespace": namespace},
            "spec": {
                "gatewayClassName": "eg",
                "listeners": [
                    {
                        "name": "https",
                        "protocol": "HTTPS",
                        "port": 443,
                        "hostname": "*.example.com",
                        "tls": {"mode": "Terminate", "certificateRefs": [{"name": "wildcard-tls"}]},
                    },
                    {"name": "http", "protocol": "HTTP", "port": 80},
                ],
            },
        },
    )


def routes(namespace: str = "shop") -> list[K8sObject]:
    """The weighted route of web (95 stable, 5 canary) and its HTTP→HTTPS redirect route."""
    return [
        make(
            "HTTPRoute",
            "web-route",
            {
                "metadata": {"namespace": namespace},
                "spec": {
                    "parentRefs": [{**GATEWAY_REF, "sectionName": "https"}],
                    "hostnames": ["web.example.com"],
                    "rules": [
                        {
                            "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                            "backendRefs": [
                                {"kind": "Service", "name": "web", "port": 80, "weight": 95},
                                {"kind": "Service", "name": "web-canary", "port": 80, "weight": 5},
                            ],
                        }
                    ],
                },
            },
            pulumi_name="web",
        ),
        make(
            "HTTPRoute",
            "web-redirect",
            {
                "metadata": {"namespace": namespace},
                "spec": {
                    "parentRefs": [{**GATEWAY_REF, "sectionName": "http"}],
                    "hostnames": ["web.example.com"],
                    "rules": [
                        {
                            "filters": [
                                {
                                    "type": "RequestRedirect",
                                    "requestRedirect": {"scheme": "https", "statusCode": 301},
                                }
                            ]
                        }
                    ],
                },
            },
        ),
    ]


def traffic_policy(namespace: str = "shop") -> K8sObject:
    """Envoy Gateway's policy for web's route: outlier detection, 2 retries of 5s within 30s."""
    return make(
        "BackendTrafficPolicy",
        "web",
        {
            "metadata": {"namespace": namespace},
            "spec": {
                "targetRefs": [
                    {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "web-route"}
                ],
                "loadBalancer": {"type": "LeastRequest"},
                "healthCheck": {"passive": {"consecutive5XxErrors": 5, "baseEjectionTime": "30s"}},
                "retry": {"numRetries": 2, "perRetry": {"timeout": "5s"}},
                "timeout": {"http": {"requestTimeout": "30s"}},
            },
        },
    )


def traffic_stack(namespace: str = "shop") -> list[K8sObject]:
    canary = edit(
        good_app("web", namespace, instance="web-canary"), "Ingress", _as_nginx_canary, "web-canary"
    )
    return [
        *good_stack(namespace),
        *canary,
        gateway(namespace),
        *routes(namespace),
        traffic_policy(namespace),
    ]


WEB_MATCH = "Host(`web.example.com`) && PathPrefix(`/`)"
ROUTE_SERVICE = ("spec", "routes", 0, "services", 0)
ROUTE_MIDDLEWARES = ("spec", "routes", 0, "middlewares")
"""Of web's HTTPS IngressRoute (`traefik_stack`, Pulumi name web)."""


def traefik_stack(namespace: str = "shop") -> list[K8sObject]:
    """The good stack with web exposed through Traefik's own routes (`kind: IngressRoute`, as hastack
    renders it): a Certificate for its Secret, an HTTPS route through a rate-limit Middleware with p2c and a
    passive health check, and a plain-HTTP route that only redirects."""
    meta = {"namespace": namespace}
    return [
        *dropped(good_stack(namespace), "Ingress", "web"),
        make(
            "Certificate",
            "web-tls",
            {
                "metadata": dict(meta),
                "spec": {
                    "secretName": "web-tls",
                    "dnsNames": ["web.example.com"],
                    "issuerRef": {"kind": "ClusterIssuer", "name": "letsencrypt"},
                },
            },
        ),
        make(
            "Middleware",
            "web-redirect",
            {"metadata": dict(meta), "spec": {"redirectScheme": {"scheme": "https"}}},
        ),
        make("Middleware", "web-ratelimit", {"metadata": dict(meta), "spec": {"rateLimit": {"average": 5}}}),
        make(
            "IngressRoute",
            "web-route",
            {
                "metadata": dict(meta),
                "spec": {
                    "entryPoints": ["websecure"],
                    "tls": {"secretName": "web-tls"},
                    "routes": [
                        {
                            "kind": "Rule",
                            "match": WEB_MATCH,
                            "middlewares": [{"name": "web-ratelimit"}],
                            "services": [
                                {
                                    "name": "web",
                                    "port": 80,
                                    "strategy": "p2c",
                                    "passiveHealthCheck": {"maxFailedAttempts": 3},
                                }
                            ],
                        }
                    ],
                },
            },
            pulumi_name="web",
        ),
        make(
            "IngressRoute",
            "web-redirect",
            {
                "metadata": dict(meta),
                "spec": {
                    "entryPoints": ["web"],
                    "routes": [
                        {
                            "kind": "Rule",
                            "match": WEB_MATCH,
                            "middlewares": [{"name": "web-redirect"}],
                            "services": [{"name": "web", "port": 80}],
                        }
                    ],
                },
            },
        ),
    ]
