"""`namespace-pod-security`: Namespaces enforce the restricted Pod Security Admission level."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hastack.wire import show
from hastack_policy.objects import K8sObject, kinds
from hastack_policy.rule import Rule
from hastack_policy.values import as_dict, known


def namespace_pod_security(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """Pod Security Admission labels make the API server itself refuse non-compliant pods."""
    labels = as_dict(obj.metadata.get("labels"))
    level = str(cfg["level"])
    actual = known(labels.get("pod-security.kubernetes.io/enforce"))
    if actual != level:
        yield (
            f"Namespace {obj.obj_name} label pod-security.kubernetes.io/enforce is {show(actual)}: "
            f"set it to {level}"
        )


RULE = Rule(
    id="namespace-pod-security",
    tier="hardening",
    description="Namespaces enforce the restricted Pod Security Admission level.",
    severity="medium",
    remediation="Label the Namespace pod-security.kubernetes.io/enforce: restricted.",
    category="security",
    default_enforcement="advisory",
    config={
        "level": {
            "type": "string",
            "enum": ["privileged", "baseline", "restricted"],
            "default": "restricted",
            "description": "required enforce level",
        }
    },
    resource_check=namespace_pod_security,
    kinds=kinds("Namespace"),
)
