"""`rwo-volume-rollout`: Workloads writing to ReadWriteOnce volumes roll out without hanging: a
StatefulSet, or a single writer (Recreate, 1 replica) where the environment allows one."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hastack_policy.objects import (
    REPLICATED_KINDS,
    SINGLE_WRITER_ANNOTATION,
    WORKLOADS,
    K8sObject,
    declared_single_writer,
    kinds,
    rollout_strategy,
    writable_claims,
)
from hastack_policy.rule import Rule
from hastack_policy.stack_index import (
    Finding,
    Workload,
    build_index,
    each_subject,
    mounted_single_node_claims,
    single_node_claims,
)

SINGLE_WRITER_MODES = ("allow", "annotated", "forbid")

STATEFULSET_FIX = "run it as a StatefulSet with volumeClaimTemplates (a volume per pod)"

SINGLE_WRITER_FIX = (
    f"or as a single writer: strategy Recreate, 1 replica and annotation {SINGLE_WRITER_ANNOTATION}: '<why>'"
)


def rwo_volume_rollout(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """A Deployment that rolls out with RollingUpdate while its pods write to a ReadWriteOnce claim
    hangs at the first rollout whose new pod lands on another node (Multi-Attach), and replicas
    cannot share such a claim; a single writer (Recreate) stops the app on every rollout, which
    singleWriter allows, requires declaring, or forbids per environment."""
    index = build_index(objs)
    claims = single_node_claims(index)
    mode = str(cfg["singleWriter"])

    def check(workload: Workload) -> Iterator[Finding]:
        urn, shown = workload.obj.urn, workload.display()
        names = writable_claims(workload.pod_spec)
        single_node = mounted_single_node_claims(workload, claims)
        listed = ", ".join(f"{workload.namespace}/{n}" for n in single_node)
        is_deployment = workload.obj.kind == "Deployment"
        strategy = rollout_strategy(workload.obj) if is_deployment else ""
        if single_node and strategy == "RollingUpdate":
            yield (
                urn,
                f"{shown} rolls out with RollingUpdate but its pods write to ReadWriteOnce claim {listed}: "
                "the new pod waits for the volume the old pod holds, so the rollout hangs; "
                f"{STATEFULSET_FIX}, {SINGLE_WRITER_FIX}",
            )
        if single_node and workload.obj.kind in REPLICATED_KINDS and workload.floor > 1:
            yield (
                urn,
                f"{shown} runs {workload.floor_text()} on ReadWriteOnce claim {listed}: pods on other nodes "
                f"cannot mount it; {STATEFULSET_FIX}, or use a ReadWriteMany claim",
            )
        declared = declared_single_writer(workload.obj)
        recreates = strategy == "Recreate" and bool(names)
        if recreates and all(claims.get((workload.namespace, n)) is False for n in names):
            yield (
                urn,
                f"{shown} uses strategy Recreate although every claim it writes ({', '.join(names)}) may "
                "be mounted by many nodes: each rollout stops the app for nothing; use RollingUpdate",
            )
            return
        if not (recreates or declared):
            return
        if mode == "forbid":
            yield (
                urn,
                f"{shown} is a single writer (every rollout stops it) and this environment forbids "
                f"single writers (singleWriter: forbid): {STATEFULSET_FIX} with an app that replicates",
            )
        elif mode == "annotated" and not declared:
            yield (
                urn,
                f"{shown} is a single writer (strategy Recreate on claim {', '.join(names)}): every rollout "
                f"stops it; declare that with annotation {SINGLE_WRITER_ANNOTATION}: '<why>', or "
                f"{STATEFULSET_FIX}",
            )
        if declared and workload.floor > 1:
            yield (
                urn,
                f"{shown} declares itself a single writer ({SINGLE_WRITER_ANNOTATION}) but runs "
                f"{workload.floor_text()}: set spec.replicas: 1",
            )

    yield from each_subject(index.workloads, check)


RULE = Rule(
    id="rwo-volume-rollout",
    description=(
        "Workloads writing to ReadWriteOnce volumes roll out without hanging: a StatefulSet, or a "
        "single writer (Recreate, 1 replica) where the environment allows one."
    ),
    severity="high",
    remediation=(
        "Use a StatefulSet with volumeClaimTemplates; or, for an app that must be a single writer, "
        f"strategy Recreate, replicas 1 and the annotation {SINGLE_WRITER_ANNOTATION}: '<why>'."
    ),
    category="ha",
    default_enforcement="mandatory",
    config={
        "singleWriter": {
            "type": "string",
            "enum": list(SINGLE_WRITER_MODES),
            "default": "annotated",
            "description": (f"single writers: allow; annotated (need {SINGLE_WRITER_ANNOTATION}); forbid"),
        }
    },
    stack_check=rwo_volume_rollout,
    kinds=WORKLOADS | kinds("HorizontalPodAutoscaler", "PersistentVolumeClaim"),
    profile_settings=lambda profile: {"singleWriter": profile.single_writer},
)
