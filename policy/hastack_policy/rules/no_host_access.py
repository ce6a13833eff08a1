"""`no-host-access`: Pods use no host namespaces, hostPath volumes or hostPorts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hastack_policy.objects import WORKLOADS, K8sObject, container_name, containers, pod_template
from hastack_policy.rule import Rule
from hastack_policy.values import as_int, as_list, dig, known


def no_host_access(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """Host namespaces, hostPath and hostPort break isolation and pin pods to nodes."""
    _, spec = pod_template(obj)
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if known(spec.get(field)) is True:
            yield f"{obj.display()} pod spec sets {field}: true: remove it"
    for volume in as_list(spec.get("volumes")):
        if isinstance(volume, dict) and volume.get("hostPath") is not None:
            path = dig(volume, "hostPath", "path", default="?")
            yield (
                f"{obj.display()} volume {volume.get('name')} mounts hostPath {path}: use an "
                "emptyDir, ConfigMap or PVC"
            )
    for container in containers(spec, init=True):
        for port in as_list(container.get("ports")):
            host_port = as_int(port.get("hostPort")) if isinstance(port, dict) else None
            if host_port:
                yield (
                    f"{obj.display()} container {container_name(container)} binds hostPort {host_port}: "
                    "remove hostPort and expose it through a Service"
                )


RULE = Rule(
    id="no-host-access",
    description="Pods use no host namespaces, hostPath volumes or hostPorts.",
    severity="critical",
    remediation=("Remove hostNetwork/hostPID/hostIPC, hostPath volumes and hostPort; use a Service instead."),
    category="security",
    default_enforcement="mandatory",
    resource_check=no_host_access,
    kinds=WORKLOADS,
)
