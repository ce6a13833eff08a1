"""`service-type-allowed`: Services are not NodePort or LoadBalancer unless allowed (ExternalName aliases
expose no pod)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hastack_policy.objects import K8sObject, kinds
from hastack_policy.rule import Rule
from hastack_policy.values import known


def service_type_allowed(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """NodePort and LoadBalancer Services bypass the Ingress (TLS, rate limits). An ExternalName
    Service is a DNS alias for something outside the cluster (a managed database): it exposes no
    pod, so it is judged by allowExternalName alone."""
    service_type = known(obj.spec.get("type")) or "ClusterIP"
    allowed = [str(t) for t in cfg["allowedTypes"]]
    if service_type == "ExternalName":
        if not (cfg.get("allowExternalName") or service_type in allowed):
            yield (
                f"{obj.display()} is an ExternalName alias of {known(obj.spec.get('externalName'))}, "
                "which this environment does not allow (allowExternalName: false): call that host by its "
                "own DNS name, or set allowExternalName: true"
            )
        return
    if service_type not in allowed:
        yield (
            f"{obj.display()} spec.type is {service_type}; allowed: {', '.join(allowed)}: "
            "use type ClusterIP behind the Ingress"
        )


RULE = Rule(
    id="service-type-allowed",
    tier="hardening",
    description=(
        "Services are not NodePort or LoadBalancer unless allowed (ExternalName aliases expose no pod)."
    ),
    severity="high",
    remediation="Use type ClusterIP and expose through the Ingress; allow other types in policy config.",
    category="security",
    default_enforcement="mandatory",
    config={
        "allowedTypes": {
            "type": "array",
            "items": {
                "type": "string",
                "enum": ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"],
            },
            "default": ["ClusterIP"],
            "description": "Service types allowed",
        },
        "allowExternalName": {
            "type": "boolean",
            "default": True,
            "description": "allow ExternalName Services (DNS aliases of outside hosts, no pod exposed)",
        },
    },
    resource_check=service_type_allowed,
    kinds=kinds("Service"),
)
