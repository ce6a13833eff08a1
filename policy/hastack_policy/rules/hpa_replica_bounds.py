"""`hpa-replica-bounds`: HorizontalPodAutoscalers keep at least the environment's replica floor and can
scale out."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hastack_policy.objects import K8sObject, kinds
from hastack_policy.rule import Rule
from hastack_policy.values import as_int

_MIN_REPLICAS_SCHEMA = {
    "type": "integer",
    "minimum": 1,
    "default": 2,
    "description": "lowest replica floor allowed",
}


def hpa_replica_bounds(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """An HPA's floor is the workload's real replica floor; max must leave room to scale out."""
    floor = as_int(obj.spec.get("minReplicas"))
    min_needed = int(cfg["minReplicas"])
    shown = "unset (defaults to 1)" if floor is None else str(floor)
    floor = 1 if floor is None else floor
    if floor < min_needed:
        yield (
            f"{obj.display()} spec.minReplicas is {shown}; at least {min_needed} needed: "
            f"set spec.minReplicas: {min_needed}"
        )
    ceiling = as_int(obj.spec.get("maxReplicas"))
    if ceiling is not None and ceiling <= floor:
        yield (
            f"{obj.display()} spec.maxReplicas is {ceiling}, not above minReplicas {floor}: it can never "
            f"scale out; set spec.maxReplicas above {floor}"
        )


RULE = Rule(
    id="hpa-replica-bounds",
    tier="hardening",
    description="HorizontalPodAutoscalers keep at least the environment's replica floor and can scale out.",
    severity="high",
    remediation="Set spec.minReplicas to at least the environment floor and spec.maxReplicas above it.",
    category="ha",
    default_enforcement="mandatory",
    config={"minReplicas": _MIN_REPLICAS_SCHEMA},
    resource_check=hpa_replica_bounds,
    kinds=kinds("HorizontalPodAutoscaler"),
    profile_settings=lambda profile: {"minReplicas": profile.min_replicas},
)
