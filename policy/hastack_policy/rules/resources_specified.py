"""`resources-specified`: Every container sets resource requests and limits."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hastack_policy.objects import WORKLOADS, K8sObject, missing_resources
from hastack_policy.rule import Rule


def resources_specified(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """Requests make scheduling and HPA utilization meaningful; limits contain a leaking pod."""
    for container, missing in missing_resources(obj, cfg["requiredRequests"], cfg["requiredLimits"]):
        yield (
            f"{obj.display()} {container} has no {', '.join(missing)}: "
            "set them (e.g. requests cpu 100m, memory 128Mi; limits memory 256Mi)"
        )


RULE = Rule(
    id="resources-specified",
    tier="hardening",
    description="Every container sets resource requests and limits.",
    severity="medium",
    remediation="Set resources.requests (cpu, memory) and resources.limits.memory on every container.",
    category="ha",
    default_enforcement="advisory",
    config={
        "requiredRequests": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["cpu", "memory"],
            "description": "resources every container must request",
        },
        "requiredLimits": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["memory"],
            "description": "resources every container must limit",
        },
    },
    resource_check=resources_specified,
    kinds=WORKLOADS,
)
