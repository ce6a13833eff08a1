"""`no-bare-pods`: Pods are created by a controller (Deployment, StatefulSet, Job), never bare."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hastack_policy.objects import K8sObject, kinds
from hastack_policy.rule import Rule


def no_bare_pods(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """A bare Pod is never rescheduled when its node dies."""
    yield f"{obj.display()} is a bare Pod that nothing recreates after a node failure: use a Deployment"


RULE = Rule(
    id="no-bare-pods",
    description="Pods are created by a controller (Deployment, StatefulSet, Job), never bare.",
    severity="high",
    remediation="Wrap the pod spec in a Deployment (or a Job for run-to-completion work).",
    category="ha",
    default_enforcement="mandatory",
    resource_check=no_bare_pods,
    kinds=kinds("Pod"),
)
