"""Gateway API exposure: per app an HTTPRoute on an existing Gateway (TLS terminates at its HTTPS
listener) with native weighted backends for a canary, a redirect route on the plain-HTTP listener,
and the implementation's traffic policy for load balancing and rate limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_kubernetes.apiextensions import CustomResource

from hastack.config import AppConfig, GatewayConfig
from hastack.controllers import GATEWAY_API_GROUP, GATEWAY_API_VERSION, GATEWAY_CONTROLLERS_BY_NAME
from hastack.resources.canary import traffic_split
from hastack.resources.labels import Track, common_labels
from hastack.resources.service import SERVICE_PORT

REDIRECT_STATUS = 301
"""Permanent: browsers and crawlers remember to use HTTPS."""


def parent_ref(gateway: GatewayConfig, section_name: str) -> dict[str, Any]:
    """The Gateway listener a route attaches to; no namespace means the route's own namespace."""
    ref: dict[str, Any] = {
        "group": GATEWAY_API_GROUP,
        "kind": "Gateway",
        "name": gateway.name,
        "sectionName": section_name,
    }
    if gateway.namespace is not None:
        ref["namespace"] = gateway.namespace
    return ref


def backend_refs(app: AppConfig, service_names: Mapping[Track, pulumi.Input[str]]) -> list[dict[str, Any]]:
    """The stable Service, plus the canary's with percentage weights when the app has a canary."""
    split = traffic_split(app)
    if split is None:
        return [{"kind": "Service", "name": service_names["stable"], "port": SERVICE_PORT}]
    return [
        {"kind": "Service", "name": service_names[track], "port": SERVICE_PORT, "weight": weight}
        for track, weight in split.items()
    ]


def http_route_spec(
    app: AppConfig, gateway: GatewayConfig, service_names: Mapping[Track, pulumi.Input[str]]
) -> dict[str, Any]:
    """Every host and path of the app on the Gateway's HTTPS listener."""
    assert app.ingress is not None
    return {
        "parentRefs": [parent_ref(gateway, gateway.section_name)],
        "hostnames": list(app.ingress.hosts),
        "rules": [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": path}} for path in app.ingress.paths],
                "backendRefs": backend_refs(app, service_names),
            }
        ],
    }


def redirect_route_spec(app: AppConfig, gateway: GatewayConfig) -> dict[str, Any]:
    """The app's hosts on the plain-HTTP listener, answered only with a redirect to HTTPS."""
    assert app.ingress is not None
    return {
        "parentRefs": [parent_ref(gateway, gateway.redirect_section_name)],
        "hostnames": list(app.ingress.hosts),
        "rules": [
            {
                "filters": [
                    {
                        "type": "RequestRedirect",
                        "requestRedirect": {"scheme": "https", "statusCode": REDIRECT_STATUS},
                    }
                ]
            }
        ],
    }


def traffic_policy_spec(
    app: AppConfig, gateway: GatewayConfig, route_name: pulumi.Input[str]
) -> dict[str, Any]:
    """Load balancing, rate limits, outlier detection, retries and timeouts for the route, in the
    implementation's own policy resource."""
    assert app.ingress is not None
    limit = app.ingress.rate_limit
    controller = GATEWAY_CONTROLLERS_BY_NAME[gateway.implementation]
    return controller.traffic_policy_spec(
        app.ingress.load_balancing,
        limit.as_rate_limit() if limit is not None else None,
        route_name,
        app.ingress.as_resilience(),
    )


@dataclass(frozen=True)
class GatewayRoutes:
    """The resources that expose one app through a Gateway."""

    route: CustomResource
    redirect: CustomResource
    traffic_policy: CustomResource | None
    """None for an implementation without a policy resource of its own."""


def gateway_routes(
    app: AppConfig,
    gateway: GatewayConfig,
    service_names: Mapping[Track, pulumi.Input[str]],
    namespace: pulumi.Input[str],
    parent: pulumi.Resource,
) -> GatewayRoutes:
    """Auto-named HTTPRoutes (nothing refers to them by a fixed name) and the policy targeting the route."""
    child = pulumi.ResourceOptions(parent=parent)
    metadata = {"namespace": namespace, "labels": common_labels(app)}
    route = CustomResource(
        app.name,
        api_version=GATEWAY_API_VERSION,
        kind="HTTPRoute",
        metadata=metadata,
        spec=http_route_spec(app, gateway, service_names),
        opts=child,
    )
    redirect = CustomResource(
        f"{app.name}-redirect",
        api_version=GATEWAY_API_VERSION,
        kind="HTTPRoute",
        metadata=metadata,
        spec=redirect_route_spec(app, gateway),
        opts=child,
    )
    controller = GATEWAY_CONTROLLERS_BY_NAME[gateway.implementation]
    if controller.policy_api_version is None or controller.policy_kind is None:
        return GatewayRoutes(route, redirect, None)
    policy = CustomResource(
        app.name,
        api_version=controller.policy_api_version,
        kind=controller.policy_kind,
        metadata=metadata,
        spec=traffic_policy_spec(app, gateway, route.metadata["name"]),
        opts=child,
    )
    return GatewayRoutes(route, redirect, policy)
