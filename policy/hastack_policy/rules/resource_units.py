"""`resource-units`: Resource quantities use the units of their resource (cores, millicores, whole bytes)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hastack.config.types import QUANTITY_FORMS, quantity_problem, quantity_text
from hastack_policy.objects import WORKLOADS, K8sObject, container_name, containers, pod_template
from hastack_policy.rule import Rule
from hastack_policy.values import as_dict, known


def resource_units(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """`memory: 512m` is half a byte and `cpu: 1Gi` a billion cores: typos the API server accepts."""
    _, spec = pod_template(obj)
    for container in containers(spec, init=True):
        resources = as_dict(container.get("resources"))
        for section in ("requests", "limits"):
            for resource, value in as_dict(resources.get(section)).items():
                if resource not in QUANTITY_FORMS or known(value) is None:
                    continue
                problem = quantity_problem(resource, value)
                if problem is not None:
                    yield (
                        f"{obj.display()} container {container_name(container)} "
                        f"resources.{section}.{resource} is {quantity_text(value)}: {problem}"
                    )


RULE = Rule(
    id="resource-units",
    description="Resource quantities use the units of their resource (cores, millicores, whole bytes).",
    severity="high",
    remediation=(
        "Write cpu as cores or millicores (0.5, 250m) and memory and ephemeral-storage in bytes with "
        "a decimal or binary suffix (512Mi, 1Gi, 500M), never milli-bytes (512m)."
    ),
    category="ha",
    default_enforcement="mandatory",
    resource_check=resource_units,
    kinds=WORKLOADS,
)
