"""Traefik's own route for an app (`apps[].ingress.kind: IngressRoute`): its hosts and paths over TLS on
the HTTPS entry point with the balancing strategy and passive health check of the route's service, the
Middlewares for rate limits and retries, and a twin on the HTTP entry point that only redirects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_kubernetes.apiextensions import CustomResource

from hastack.config import AppConfig
from hastack.controllers import TRAEFIK_API_VERSION, TRAEFIK_ROUTE
from hastack.resources.labels import common_labels
from hastack.resources.service import SERVICE_PORT
from hastack.resources.tls import TlsBinding

HTTPS_ENTRY_POINT = "websecure"
HTTP_ENTRY_POINT = "web"
"""Traefik's usual entry point names (its Helm chart's and cluster/addons/traefik.yaml's)."""


def route_match(app: AppConfig) -> str:
    """Traefik's rule for every host and path prefix of the app."""
    assert app.ingress is not None
    hosts = " || ".join(f"Host(`{host}`)" for host in app.ingress.hosts)
    paths = " || ".join(f"PathPrefix(`{path}`)" for path in app.ingress.paths)
    return f"({hosts}) && ({paths})"


def route_service(app: AppConfig, service_name: pulumi.Input[str]) -> dict[str, Any]:
    """The app's Service with the strategy and passive health check asked of it."""
    assert app.ingress is not None
    return {
        "name": service_name,
        "port": SERVICE_PORT,
        **TRAEFIK_ROUTE.service_spec(app.ingress.load_balancing, app.ingress.as_resilience()),
    }


def ingress_route_spec(
    app: AppConfig,
    tls: TlsBinding,
    service_name: pulumi.Input[str],
    middlewares: list[pulumi.Input[str]],
) -> dict[str, Any]:
    """HTTPS only: the certificate Secret, the Middlewares in order, then the Service."""
    route: dict[str, Any] = {
        "kind": "Rule",
        "match": route_match(app),
        "services": [route_service(app, service_name)],
    }
    if middlewares:
        route["middlewares"] = [{"name": name} for name in middlewares]
    return {"entryPoints": [HTTPS_ENTRY_POINT], "routes": [route], "tls": {"secretName": tls.secret_name}}


def redirect_route_spec(
    app: AppConfig, service_name: pulumi.Input[str], redirect: pulumi.Input[str]
) -> dict[str, Any]:
    """The same hosts on plain HTTP, answered by the redirect Middleware before any backend is asked."""
    return {
        "entryPoints": [HTTP_ENTRY_POINT],
        "routes": [
            {
                "kind": "Rule",
                "match": route_match(app),
                "middlewares": [{"name": redirect}],
                "services": [{"name": service_name, "port": SERVICE_PORT}],
            }
        ],
    }


REDIRECT_MIDDLEWARE = {"redirectScheme": {"scheme": "https", "permanent": True}}


@dataclass(frozen=True)
class IngressRoutes:
    """The resources that expose one app through Traefik's CRDs."""

    route: CustomResource
    redirect: CustomResource
    middlewares: dict[str, CustomResource]
    """By role: redirect, ratelimit, inflight, retry."""


def ingress_routes(
    app: AppConfig,
    tls: TlsBinding,
    service_name: pulumi.Input[str],
    namespace: pulumi.Input[str],
    parent: pulumi.Resource,
) -> IngressRoutes:
    """Auto-named Middlewares (the routes refer to them by their generated names) and the two routes."""
    assert app.ingress is not None
    child = pulumi.ResourceOptions(parent=parent)
    metadata = {"namespace": namespace, "labels": common_labels(app)}
    limit = app.ingress.rate_limit
    specs = {
        "redirect": REDIRECT_MIDDLEWARE,
        **TRAEFIK_ROUTE.middleware_specs(
            limit.as_rate_limit() if limit is not None else None, app.ingress.as_resilience()
        ),
    }
    middlewares = {
        role: CustomResource(
            f"{app.name}-{role}",
            api_version=TRAEFIK_API_VERSION,
            kind="Middleware",
            metadata=metadata,
            spec=spec,
            opts=child,
        )
        for role, spec in specs.items()
    }
    chain = [m.metadata["name"] for role, m in middlewares.items() if role != "redirect"]
    route = CustomResource(
        app.name,
        api_version=TRAEFIK_API_VERSION,
        kind="IngressRoute",
        metadata=metadata,
        spec=ingress_route_spec(app, tls, service_name, chain),
        opts=child,
    )
    redirect = CustomResource(
        f"{app.name}-redirect",
        api_version=TRAEFIK_API_VERSION,
        kind="IngressRoute",
        metadata=metadata,
        spec=redirect_route_spec(app, service_name, middlewares["redirect"].metadata["name"]),
        opts=child,
    )
    return IngressRoutes(route, redirect, middlewares)
