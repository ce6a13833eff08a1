"""`priority-class-set`: Replicated serving workloads name a PriorityClass, so they are not preempted
first."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hastack_policy.objects import REPLICATED, K8sObject, pod_template
from hastack_policy.rule import Rule
from hastack_policy.values import known


def priority_class_set(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """Pods without a priority class have priority 0 (or the global default) and are preempted first."""
    _, spec = pod_template(obj)
    name = known(spec.get("priorityClassName"))
    if not name:
        yield (
            f"{obj.display()} pod spec sets no priorityClassName, so under resource pressure its pods are "
            "among the first preempted: set priorityClassName to a PriorityClass for serving workloads"
        )
    elif str(name).startswith("system-") and obj.namespace != "kube-system":
        yield (
            f"{obj.display()} pod spec priorityClassName is {name}, reserved for kube-system: "
            "name a PriorityClass of your own"
        )


RULE = Rule(
    id="priority-class-set",
    description="Replicated serving workloads name a PriorityClass, so they are not preempted first.",
    severity="low",
    remediation=(
        "Create a PriorityClass for serving workloads and set spec.template.spec.priorityClassName "
        "(hastack: apps[].priorityClassName)."
    ),
    category="ha",
    default_enforcement="advisory",
    tier="advice",
    resource_check=priority_class_set,
    kinds=REPLICATED,
)
