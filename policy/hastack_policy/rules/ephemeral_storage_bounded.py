"""`ephemeral-storage-bounded`: Every container requests and limits ephemeral storage."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hastack_policy.objects import WORKLOADS, K8sObject, missing_resources
from hastack_policy.rule import Rule


def ephemeral_storage_bounded(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """Without an ephemeral-storage limit one pod's logs or scratch files fill the node's disk and the
    kubelet evicts its neighbours; without a request the scheduler cannot place by disk."""
    for container, missing in missing_resources(obj, ["ephemeral-storage"], ["ephemeral-storage"]):
        yield (
            f"{obj.display()} {container} has no {', '.join(missing)}: "
            "set them (e.g. requests 128Mi, limits 1Gi) so disk pressure evicts the pod that caused it"
        )


RULE = Rule(
    id="ephemeral-storage-bounded",
    description="Every container requests and limits ephemeral storage.",
    severity="low",
    remediation=(
        "Set resources.requests.ephemeral-storage and resources.limits.ephemeral-storage on every "
        "container (hastack: apps[].resources.requests/limits.ephemeralStorage; the profile "
        "sets 128Mi/1Gi)."
    ),
    category="ha",
    default_enforcement="advisory",
    tier="advice",
    resource_check=ephemeral_storage_bounded,
    kinds=WORKLOADS,
)
