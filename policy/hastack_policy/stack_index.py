"""The whole stack at once, for the rules that judge resources against each other: every workload with
its pod labels, replicas and the HPA that owns it, label-indexed so that selectors match in linear
time. A subject whose values are not known yet is skipped, never judged."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hastack.wire import is_unknown

from .objects import (
    SINGLE_NODE_MODES,
    K8sObject,
    is_kind,
    is_workload,
    pod_template,
    replicas,
    selector_matches,
    writable_claims,
)
from .values import UnknownValueError, as_dict, as_int, as_list, known

Finding = tuple[str, str]


def each_subject(subjects: Iterable[Any], check: Callable[[Any], Iterable[Finding]]) -> Iterator[Finding]:
    """Runs `check` per subject; an unknown value skips that subject only."""
    for subject in subjects:
        try:
            yield from list(check(subject))
        except UnknownValueError:
            continue


@dataclass
class Workload:
    """A pod-producing resource with what cross-resource rules need to know about it."""

    obj: K8sObject
    namespace: str
    name: str
    labels: dict[str, Any]
    pod_spec: dict[str, Any]
    replicas: int | None
    hpa: K8sObject | None = None
    hpa_min: int | None = None

    @property
    def floor(self) -> int:
        """The smallest replica count it runs at: the HPA floor when an HPA owns it."""
        if self.hpa is not None and self.hpa_min is not None:
            return self.hpa_min
        if self.obj.kind == "Pod":
            return 1
        return 1 if self.replicas is None else self.replicas

    def display(self) -> str:
        """`Kind namespace/name` for messages."""
        return f"{self.obj.kind} {self.namespace}/{self.name}"

    def floor_text(self) -> str:
        if self.hpa is not None and self.hpa_min is not None:
            return f"an HPA floor of {self.hpa_min} replicas"
        return f"{self.floor} replica" + ("" if self.floor == 1 else "s")


@dataclass
class _LabelIndex:
    """One namespace's workloads by pod label (key, value), for narrowing selectors."""

    workloads: list[Workload] = field(default_factory=list)
    by_pair: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    """Positions in `workloads` of the pods carrying each known string label."""
    unsure: dict[str, list[int]] = field(default_factory=dict)
    """Per label key, positions whose value is unknown or not a string: candidates for any value."""

    def add(self, workload: Workload) -> None:
        position = len(self.workloads)
        self.workloads.append(workload)
        for key, value in workload.labels.items():
            if isinstance(value, str) and not is_unknown(value):
                self.by_pair.setdefault((key, value), []).append(position)
            else:
                self.unsure.setdefault(key, []).append(position)

    def candidates(self, selector: Any) -> list[Workload]:
        """Pods lacking a required matchLabels pair, or holding another known value, never match
        (a False term decides the selector), so one known pair of the selector narrows the set."""
        match_labels = selector.get("matchLabels") if isinstance(selector, dict) else None
        if isinstance(match_labels, dict):
            for key, value in match_labels.items():
                if isinstance(key, str) and isinstance(value, str) and not is_unknown(value):
                    positions = self.by_pair.get((key, value), []) + self.unsure.get(key, [])
                    return [self.workloads[p] for p in sorted(positions)]
        return list(self.workloads)


@dataclass
class StackIndex:
    """Every Kubernetes object of the stack, grouped for the cross-resource rules."""

    objects: Sequence[K8sObject]
    workloads: list[Workload] = field(default_factory=list)
    unknown_workloads: list[K8sObject] = field(default_factory=list)
    unresolved_hpa_namespaces: set[str | None] = field(default_factory=set)
    """Namespaces of HPAs whose target is unknown (None: namespace unknown too)."""
    _labels: dict[str, _LabelIndex] | None = field(default=None, init=False, repr=False, compare=False)
    """Per namespace, the workloads by pod label (`_label_indexes`, built on first use)."""

    def maybe_hpa_owned(self, workload: Workload) -> bool:
        """True when no HPA is known to own it but an HPA with an unknown target might."""
        if workload.hpa is not None:
            return False
        return None in self.unresolved_hpa_namespaces or workload.namespace in self.unresolved_hpa_namespaces

    def of_kind(self, kind: str, group: str | None = None) -> list[K8sObject]:
        return [o for o in self.objects if is_kind(o, kind, group)]

    def workloads_in(self, namespace: str) -> list[Workload]:
        found = self._label_indexes().get(namespace)
        return [] if found is None else list(found.workloads)

    def selector_candidates(self, namespace: str, selector: Any) -> list[Workload]:
        """The workloads of `namespace` the selector may select, in stack order (a superset: callers
        still match exactly); narrowed through a label index so that matching stays linear in apps."""
        found = self._label_indexes().get(namespace)
        return [] if found is None else found.candidates(selector)

    def _label_indexes(self) -> dict[str, _LabelIndex]:
        """Per namespace, built on first use (the workload list is complete by then)."""
        if self._labels is None:
            self._labels = {}
            for workload in self.workloads:
                self._labels.setdefault(workload.namespace, _LabelIndex()).add(workload)
        return self._labels

    def namespaces_unknown(self) -> bool:
        """True when some workload's namespace/name/labels are unknown (coverage becomes undecidable)."""
        return bool(self.unknown_workloads)


def build_index(objs: Sequence[K8sObject]) -> StackIndex:
    """Resolves workloads (name, namespace, pod labels, replicas) and which HPA owns each."""
    index = StackIndex(objects=objs)
    for obj in objs:
        if not is_workload(obj):
            continue
        try:
            metadata, spec = pod_template(obj)
            labels = as_dict(metadata.get("labels"))
            workload = Workload(
                obj=obj,
                namespace=obj.namespace,
                name=obj.obj_name,
                labels=labels,
                pod_spec=spec,
                replicas=replicas(obj),
            )
        except UnknownValueError:
            index.unknown_workloads.append(obj)
            continue
        index.workloads.append(workload)
    for hpa in index.of_kind("HorizontalPodAutoscaler", "autoscaling"):
        try:
            target = hpa_target(index, hpa)
        except UnknownValueError:
            try:
                index.unresolved_hpa_namespaces.add(hpa.namespace)
            except UnknownValueError:
                index.unresolved_hpa_namespaces.add(None)
            continue
        if target is not None:
            target.hpa = hpa
            try:
                target.hpa_min = hpa_min_replicas(hpa)
            except UnknownValueError:
                target.hpa_min = None
    return index


def hpa_min_replicas(hpa: K8sObject) -> int:
    """spec.minReplicas, defaulting to 1 as the API server does."""
    value = as_int(hpa.spec.get("minReplicas"))
    return 1 if value is None else value


def hpa_target(index: StackIndex, hpa: K8sObject) -> Workload | None:
    """The workload an HPA's scaleTargetRef names in its namespace (None when absent)."""
    ref = as_dict(hpa.spec.get("scaleTargetRef"))
    kind = known(ref.get("kind"))
    name = known(ref.get("name"))
    namespace = hpa.namespace
    api_version = known(ref.get("apiVersion")) or ""
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    for workload in index.workloads:
        if (
            workload.obj.kind == kind
            and workload.name == name
            and workload.namespace == namespace
            and (not api_version or workload.obj.group == group)
        ):
            return workload
    return None


def selected_workloads(index: StackIndex, namespace: str, selector: Any) -> tuple[list[Workload], bool]:
    """(workloads whose pods the selector definitely selects, whether some match was undecidable)."""
    matched: list[Workload] = []
    undecided = bool(index.unknown_workloads)
    for workload in index.selector_candidates(namespace, selector):
        result = selector_matches(selector, workload.labels)
        if result is None:
            undecided = True
        elif result:
            matched.append(workload)
    return matched, undecided


def single_node_claims(index: StackIndex) -> dict[tuple[str, str], bool | None]:
    """(namespace, name) → whether each claim of the stack mounts on one node only (None: unknown)."""
    found: dict[tuple[str, str], bool | None] = {}
    for claim in index.of_kind("PersistentVolumeClaim", ""):
        try:
            modes = {str(m) for m in as_list(claim.spec.get("accessModes"))}
            found[(claim.namespace, claim.obj_name)] = modes <= SINGLE_NODE_MODES if modes else None
        except UnknownValueError:
            continue
    return found


def mounted_single_node_claims(
    workload: Workload, claims: Mapping[tuple[str, str], bool | None]
) -> list[str]:
    """The writable claims of a workload's pods that the stack declares ReadWriteOnce(Pod)."""
    return [name for name in writable_claims(workload.pod_spec) if claims.get((workload.namespace, name))]
