"""`pdb-coverage`: Every multi-replica workload is selected by exactly one PodDisruptionBudget."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hastack_policy.objects import REPLICATED_KINDS, WORKLOADS, K8sObject, kinds
from hastack_policy.rule import Rule
from hastack_policy.stack_index import Finding, Workload, build_index, each_subject, selected_workloads
from hastack_policy.values import UnknownValueError


def pdb_coverage(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """Each multi-replica workload needs exactly one PDB: none = unguarded, two = eviction blocked."""
    index = build_index(objs)
    selections: dict[str, list[K8sObject]] = {}
    undecided: set[str] = set()
    pdbs = index.of_kind("PodDisruptionBudget", "policy")
    for pdb in pdbs:
        try:
            namespace = pdb.namespace
            selector = pdb.spec.get("selector")
        except UnknownValueError:
            undecided.update(w.obj.urn for w in index.workloads)
            continue
        matched, maybe = selected_workloads(index, namespace, selector)
        if maybe:
            undecided.update(w.obj.urn for w in index.workloads_in(namespace))
        for workload in matched:
            selections.setdefault(workload.obj.urn, []).append(pdb)
        if not matched and not maybe and selector is not None:
            yield (
                pdb.urn,
                f"{pdb.display()} selects the pods of no workload in namespace {namespace}: "
                "make spec.selector match the workload's pod labels, or delete it",
            )

    def check(workload: Workload) -> Iterator[Finding]:
        found = selections.get(workload.obj.urn, [])
        if len(found) > 1:  # the eviction API refuses pods under two PDBs, whatever the replica count
            names = ", ".join(p.display() for p in found)
            yield (
                workload.obj.urn,
                f"{workload.display()} is selected by {len(found)} PodDisruptionBudgets ({names}); "
                "overlapping PDBs block eviction: keep exactly one",
            )
        elif (
            not found
            and workload.obj.urn not in undecided
            and workload.obj.kind in REPLICATED_KINDS
            and (workload.floor >= 2 or workload.hpa is not None)
        ):
            yield (
                workload.obj.urn,
                f"{workload.display()} runs {workload.floor_text()} but no "
                "PodDisruptionBudget selects "
                "its pods: add a PDB with maxUnavailable: 1 and the workload's selector",
            )

    yield from each_subject(index.workloads, check)


RULE = Rule(
    id="pdb-coverage",
    description="Every multi-replica workload is selected by exactly one PodDisruptionBudget.",
    severity="high",
    remediation=(
        "Give each workload one PDB whose selector matches its pod labels; delete overlapping PDBs."
    ),
    category="ha",
    default_enforcement="mandatory",
    stack_check=pdb_coverage,
    kinds=WORKLOADS | kinds("HorizontalPodAutoscaler", "PodDisruptionBudget"),
)
