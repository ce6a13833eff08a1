"""`hpa-target-exists`: An HPA targets a workload in the stack, and that workload sets no static replicas."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hastack_policy.objects import WORKLOADS, K8sObject, kinds
from hastack_policy.rule import Rule
from hastack_policy.stack_index import Finding, build_index, each_subject, hpa_target
from hastack_policy.values import as_dict, known


def hpa_target_exists(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """An HPA whose target is missing scales nothing; a static spec.replicas fights the HPA on apply."""
    index = build_index(objs)

    def check(hpa: K8sObject) -> Iterator[Finding]:
        ref = as_dict(hpa.spec.get("scaleTargetRef"))
        if index.unknown_workloads:
            return
        target = hpa_target(index, hpa)
        if target is None:
            kinds = sorted({w.obj.kind for w in index.workloads_in(hpa.namespace)})
            yield (
                hpa.urn,
                f"{hpa.display()} spec.scaleTargetRef "
                f"{known(ref.get('kind'))}/{known(ref.get('name'))} names no "
                f"workload in namespace {hpa.namespace} of this stack (workload kinds there: "
                f"{', '.join(kinds) or 'none'}): point it at the Deployment's metadata.name",
            )
            return
        if target.replicas is not None:
            yield (
                target.obj.urn,
                f"{target.display()} sets spec.replicas {target.replicas} but "
                f"{hpa.display()} owns its "
                "replica count: remove spec.replicas (the two fight on every apply)",
            )

    yield from each_subject(index.of_kind("HorizontalPodAutoscaler", "autoscaling"), check)


RULE = Rule(
    id="hpa-target-exists",
    description="An HPA targets a workload in the stack, and that workload sets no static replicas.",
    severity="high",
    remediation="Point scaleTargetRef at the workload's kind and metadata.name; drop its spec.replicas.",
    category="ha",
    default_enforcement="mandatory",
    stack_check=hpa_target_exists,
    kinds=WORKLOADS | kinds("HorizontalPodAutoscaler"),
)
