"""`hpa-metrics-have-requests`: An HPA Utilization metric has that resource requested on every container of
its target."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hastack_policy.objects import WORKLOADS, K8sObject, containers, kinds
from hastack_policy.rule import Rule
from hastack_policy.stack_index import Finding, build_index, each_subject, hpa_target
from hastack_policy.values import as_list, dig, known


def _utilization_resources(hpa: K8sObject) -> list[tuple[str, str | None]]:
    """(resource, container or None) for each Utilization metric, including the v2 default (cpu 80%)."""
    if hpa.type.startswith("kubernetes:autoscaling/v1:"):
        return [("cpu", None)]
    metrics = as_list(hpa.spec.get("metrics"))
    if not metrics:
        return [("cpu", None)]
    found: list[tuple[str, str | None]] = []
    for metric in metrics:
        kind = known(dig(metric, "type"))
        if kind == "Resource" and known(dig(metric, "resource", "target", "type")) == "Utilization":
            found.append((str(known(dig(metric, "resource", "name"))), None))
        if (
            kind == "ContainerResource"
            and known(dig(metric, "containerResource", "target", "type")) == "Utilization"
        ):
            found.append(
                (
                    str(known(dig(metric, "containerResource", "name"))),
                    str(known(dig(metric, "containerResource", "container"))),
                )
            )
    return found


def hpa_metrics_have_requests(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """Utilization is usage / request: without a request on every container the HPA cannot compute it."""
    index = build_index(objs)

    def check(hpa: K8sObject) -> Iterator[Finding]:
        target = hpa_target(index, hpa)
        if target is None:
            return
        for resource, only in _utilization_resources(hpa):
            for container in containers(target.pod_spec, init=False):
                name = known(container.get("name"))
                if only is not None and name != only:
                    continue
                request = dig(container, "resources", "requests", resource)
                if request in (None, ""):
                    yield (
                        hpa.urn,
                        f"{hpa.display()} scales on {resource} Utilization but container {name} of "
                        f"{target.display()} has no resources.requests.{resource}: set "
                        "it on every container",
                    )

    yield from each_subject(index.of_kind("HorizontalPodAutoscaler", "autoscaling"), check)


RULE = Rule(
    id="hpa-metrics-have-requests",
    description="An HPA Utilization metric has that resource requested on every container of its target.",
    severity="high",
    remediation="Set resources.requests.<cpu|memory> on every container of the target workload.",
    category="ha",
    default_enforcement="mandatory",
    stack_check=hpa_metrics_have_requests,
    kinds=WORKLOADS | kinds("HorizontalPodAutoscaler"),
)
