"""`rolling-update-keeps-capacity`: Deployments roll out with RollingUpdate and a maxUnavailable that keeps
serving capacity."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hastack.kube import scaled
from hastack.wire import show
from hastack_policy.objects import K8sObject, declared_single_writer, kinds, single_writer_shape
from hastack_policy.rule import Rule
from hastack_policy.values import as_dict, as_int, known


def rolling_update_keeps_capacity(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """A rollout must never take serving capacity below the replica count.

    A single writer (one pod writing to a claim, or declared so) is judged by rwo-volume-rollout:
    RollingUpdate would hang its rollout on a ReadWriteOnce volume.
    """
    if single_writer_shape(obj) or declared_single_writer(obj):
        return
    strategy = as_dict(obj.spec.get("strategy"))
    kind = known(strategy.get("type")) or "RollingUpdate"
    limit = int(cfg["maxUnavailable"])
    if kind == "Recreate":
        yield (
            f"{obj.display()} spec.strategy.type is Recreate: every pod stops before new ones start; "
            f"use RollingUpdate with maxUnavailable: {limit}"
        )
        return
    rolling = as_dict(strategy.get("rollingUpdate"))
    max_unavailable = known(rolling.get("maxUnavailable", "25%"))
    max_surge = known(rolling.get("maxSurge", "25%"))
    count = as_int(obj.spec.get("replicas")) if "replicas" in obj.spec else None
    if isinstance(max_unavailable, str) and count is None:
        if max_unavailable.strip() not in ("0%", "0"):
            yield (
                f"{obj.display()} spec.strategy.rollingUpdate.maxUnavailable is {max_unavailable} "
                f"(the default when unset) with no fixed replica count, so it drops pods once scaled out; "
                f"set maxUnavailable: {limit} and a maxSurge such as 25%"
            )
        return
    unavailable = scaled(max_unavailable, count or 0, round_up=False)
    if unavailable is not None and unavailable > limit:
        pods = f"{unavailable} of {count} pods" if count is not None else f"{unavailable} pod(s)"
        unset = "" if count is not None else " (spec.replicas is unset)"
        yield (
            f"{obj.display()} spec.strategy.rollingUpdate.maxUnavailable {show(max_unavailable)} takes "
            f"{pods} down during a rollout{unset}; "
            f"at most {limit} allowed: set maxUnavailable: {limit}"
        )
    surge = scaled(max_surge, count or 0, round_up=True) if count is not None else None
    if unavailable == 0 and surge == 0:
        yield (
            f"{obj.display()} rollingUpdate has maxUnavailable 0 and maxSurge {show(max_surge)}: the rollout "
            "cannot progress; set maxSurge: 25% (or 1)"
        )


RULE = Rule(
    id="rolling-update-keeps-capacity",
    tier="hardening",
    description="Deployments roll out with RollingUpdate and a maxUnavailable that keeps serving capacity.",
    severity="high",
    remediation="Set spec.strategy to RollingUpdate with maxUnavailable: 0 and maxSurge: 25%.",
    category="ha",
    default_enforcement="mandatory",
    config={
        "maxUnavailable": {
            "type": "integer",
            "minimum": 0,
            "default": 0,
            "description": "pods a rollout may take down",
        }
    },
    resource_check=rolling_update_keeps_capacity,
    kinds=kinds("Deployment"),
)
