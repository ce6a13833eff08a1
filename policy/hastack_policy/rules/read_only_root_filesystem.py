"""`read-only-root-filesystem`: Containers run with a read-only root filesystem."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hastack.wire import show
from hastack_policy.objects import WORKLOADS, K8sObject, container_name, containers, pod_template
from hastack_policy.rule import Rule
from hastack_policy.values import dig, known


def read_only_root_filesystem(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """A writable root filesystem lets an intruder persist tools; mount an emptyDir for /tmp."""
    _, spec = pod_template(obj)
    for container in containers(spec, init=True):
        value = known(dig(container, "securityContext", "readOnlyRootFilesystem"))
        if value is not True:
            yield (
                f"{obj.display()} container {container_name(container)} "
                "securityContext.readOnlyRootFilesystem "
                f"is {show(value)}: set it to true and mount an emptyDir at /tmp"
            )


RULE = Rule(
    id="read-only-root-filesystem",
    tier="hardening",
    description="Containers run with a read-only root filesystem.",
    severity="medium",
    remediation="Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir at /tmp.",
    category="security",
    default_enforcement="advisory",
    resource_check=read_only_root_filesystem,
    kinds=WORKLOADS,
)
