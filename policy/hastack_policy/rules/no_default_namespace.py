"""`no-default-namespace`: Namespaced resources are not placed in the default (or a system) namespace."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hastack.config.types import RESERVED_NAMESPACES
from hastack_policy.objects import CLUSTER_SCOPED_KINDS, K8sObject
from hastack_policy.rule import Rule


def no_default_namespace(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """Workloads in `default` (or system namespaces) share policies and quotas with everything else."""
    if "apiVersion" not in obj.props or obj.kind in CLUSTER_SCOPED_KINDS or obj.kind.endswith("List"):
        return
    namespace = obj.namespace
    forbidden = [str(n) for n in cfg["forbiddenNamespaces"]]
    if namespace in forbidden:
        source = (
            "metadata.namespace" if obj.metadata.get("namespace") else "no metadata.namespace, so it lands in"
        )
        yield (
            f"{obj.kind} {obj.obj_name} is in namespace {namespace} ({source} {namespace}): "
            "set metadata.namespace to the app's own namespace"
        )


RULE = Rule(
    id="no-default-namespace",
    tier="hardening",
    description="Namespaced resources are not placed in the default (or a system) namespace.",
    severity="medium",
    remediation=("Set metadata.namespace to the application's namespace (or give the provider a namespace)."),
    category="security",
    default_enforcement="advisory",
    config={
        "forbiddenNamespaces": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["default", "kube-system", "kube-public"],
            "description": "namespaces resources may not be placed in",
        }
    },
    resource_check=no_default_namespace,
    profile_settings=lambda _profile: {"forbiddenNamespaces": list(RESERVED_NAMESPACES)},
)
