"""`pdb-allows-eviction`: A PodDisruptionBudget allows an eviction at the workload's minimum scale and
keeps the environment's minimum available."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hastack import kube
from hastack.wire import show
from hastack_policy.objects import WORKLOADS, K8sObject, kinds
from hastack_policy.rule import Rule
from hastack_policy.stack_index import Finding, build_index, each_subject, selected_workloads
from hastack_policy.values import known


def pdb_allows_eviction(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """At the minimum scale at least one voluntary eviction must be possible, or drains hang."""
    index = build_index(objs)

    def check(pdb: K8sObject) -> Iterator[Finding]:
        matched, maybe = selected_workloads(index, pdb.namespace, pdb.spec.get("selector"))
        if not matched or maybe:
            return
        if any((w.hpa is not None and w.hpa_min is None) or index.maybe_hpa_owned(w) for w in matched):
            return
        expected = sum(w.floor for w in matched)
        spec = pdb.spec
        allowed = kube.disruptions_allowed(
            known(spec.get("maxUnavailable")), known(spec.get("minAvailable")), expected
        )
        keep = int(cfg["minAvailable"])
        if allowed is None or (allowed >= 1 and expected - allowed >= keep):
            return
        if spec.get("maxUnavailable") is not None:
            policy = f"maxUnavailable {show(spec['maxUnavailable'])}"
        else:
            policy = f"minAvailable {show(spec['minAvailable'])}"
        floors = ", ".join(f"{w.display()}: {w.floor_text()}" for w in matched)
        scale = matched[0].floor_text() if len(matched) == 1 else f"{expected} replicas ({floors})"
        if allowed < 1:
            yield (
                pdb.urn,
                f"{pdb.display()} allows no eviction: {policy} with {scale}; set maxUnavailable: 1",
            )
            return
        yield (
            pdb.urn,
            f"{pdb.display()} lets {allowed} pod(s) go with {scale} ({policy}), keeping "
            f"{expected - allowed}; at least {keep} must stay available during disruptions: lower "
            "maxUnavailable or raise the floor",
        )

    yield from each_subject(index.of_kind("PodDisruptionBudget", "policy"), check)


RULE = Rule(
    id="pdb-allows-eviction",
    description=(
        "A PodDisruptionBudget allows an eviction at the workload's minimum scale and keeps the "
        "environment's minimum available."
    ),
    severity="critical",
    remediation=(
        "Use maxUnavailable: 1, or a minAvailable below the replica (HPA) floor that still keeps the "
        "environment's minimum available."
    ),
    category="ha",
    default_enforcement="mandatory",
    config={
        "minAvailable": {
            "type": "integer",
            "minimum": 0,
            "default": 0,
            "description": "pods the budget must keep at the replica floor (0: not checked)",
        }
    },
    stack_check=pdb_allows_eviction,
    kinds=WORKLOADS | kinds("HorizontalPodAutoscaler", "PodDisruptionBudget"),
    profile_settings=lambda profile: {"minAvailable": profile.min_available_during_disruption},
)
