"""`min-replicas`: Serving workloads (selected by a Service) not owned by an HPA run at least the
environment's minimum replicas."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hastack_policy.objects import (
    REPLICATED_KINDS,
    SINGLE_WRITER_ANNOTATION,
    WORKLOADS,
    K8sObject,
    declared_single_writer,
    equality_selector,
    kinds,
    recreates_with_claim,
)
from hastack_policy.rule import Rule
from hastack_policy.stack_index import (
    Finding,
    StackIndex,
    Workload,
    build_index,
    each_subject,
    mounted_single_node_claims,
    selected_workloads,
    single_node_claims,
)
from hastack_policy.values import UnknownValueError, as_dict, known

LEADER_WORDS = frozenset({"leader", "master", "primary", "writer"})
"""Pod label values that name the one writer of a replicated store (a Redis primary, a leader)."""

SINGLE_WRITER_HINT = (
    f"an app that must run alone (one leader or writer, e.g. a Redis primary or a VPN router, where "
    f"more replicas would be independent writers) is declared with annotation {SINGLE_WRITER_ANNOTATION}: "
    "'<why>' instead"
)


def _leader_label(workload: Workload) -> str | None:
    """`key=value` of a pod label naming the workload a leader or primary, if one does."""
    for key, value in workload.labels.items():
        if isinstance(value, str) and value.lower() in LEADER_WORDS:
            return f"{key}={value}"
    return None


def served_workloads(index: StackIndex) -> set[str]:
    """URNs of the workloads some Service of the stack certainly selects (a selection an unknown value
    makes undecidable counts as none: an unknown never fails a rule)."""
    served: set[str] = set()
    for service in index.of_kind("Service", ""):
        try:
            if known(service.spec.get("type")) == "ExternalName":
                continue
            namespace = service.namespace
            selector = as_dict(service.spec.get("selector"))
        except UnknownValueError:
            continue
        if selector:
            matched, _ = selected_workloads(index, namespace, equality_selector(selector))
            served.update(w.obj.urn for w in matched)
    return served


_MIN_REPLICAS_SCHEMA = {
    "type": "integer",
    "minimum": 1,
    "default": 2,
    "description": "lowest replica count allowed",
}


def min_replicas(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """One replica of a serving workload (one a Service selects) is a single point of failure; the HPA
    floor counts when an HPA owns the count. A workload no Service selects serves no traffic (a load
    generator, a batch consumer): more replicas multiply its work, not its availability.

    Single writers (declared, Recreate on a claim, or writing a ReadWriteOnce claim) are judged by
    rwo-volume-rollout instead: more replicas would break them.
    """
    index = build_index(objs)
    needed = int(cfg["minReplicas"])
    claims = single_node_claims(index)
    served = served_workloads(index)

    def check(workload: Workload) -> Iterator[Finding]:
        if (
            workload.obj.kind not in REPLICATED_KINDS
            or workload.hpa is not None
            or index.maybe_hpa_owned(workload)
            or declared_single_writer(workload.obj)
            or recreates_with_claim(workload.obj)
            or mounted_single_node_claims(workload, claims)
            or workload.obj.urn not in served
        ):
            return
        display = workload.display()
        count = (
            "spec.replicas is unset (defaults to 1) and no HPA targets it"
            if workload.replicas is None
            else f"spec.replicas is {workload.replicas}"
        )
        if workload.replicas is not None and workload.replicas >= needed:
            return
        leader = _leader_label(workload)
        if leader is not None and workload.floor == 1:
            yield (
                workload.obj.urn,
                f"{display} {count}, and its pod label {leader} names a single writer, which more "
                f"replicas would turn into independent writers: if it is one, declare it with annotation "
                f"{SINGLE_WRITER_ANNOTATION}: '<why>'; if it replicates, set spec.replicas: {needed}",
            )
            return
        fix = (
            f"set spec.replicas: {needed} or add an HPA with minReplicas >= {needed}"
            if workload.replicas is None
            else f"set spec.replicas: {needed}"
        )
        yield (
            workload.obj.urn,
            f"{display} {count}; at least {needed} needed: {fix}; {SINGLE_WRITER_HINT}",
        )

    yield from each_subject(index.workloads, check)


RULE = Rule(
    id="min-replicas",
    description=(
        "Serving workloads (selected by a Service) not owned by an HPA run at least the environment's "
        "minimum replicas."
    ),
    severity="high",
    remediation=(
        "Set spec.replicas to the environment floor, or add an HPA whose minReplicas is at least that; "
        f"an app that must run alone (a Redis primary, a VPN router) carries {SINGLE_WRITER_ANNOTATION} "
        "instead."
    ),
    category="ha",
    default_enforcement="mandatory",
    config={"minReplicas": _MIN_REPLICAS_SCHEMA},
    stack_check=min_replicas,
    kinds=WORKLOADS | kinds("HorizontalPodAutoscaler", "PersistentVolumeClaim", "Service"),
    profile_settings=lambda profile: {"minReplicas": profile.min_replicas},
)
