"""Kubernetes semantics the rules share: workloads and pod templates, exact label selectors,
int-or-percent scaling as the controllers round it, and a stack index for cross-resource rules.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hastack.wire import is_unknown

from .base import K8sObject, UnknownValueError, as_dict, as_int, as_list, contains_unknown, dig, known

WORKLOAD_KINDS: dict[str, str] = {
    "Deployment": "apps",
    "StatefulSet": "apps",
    "ReplicaSet": "apps",
    "DaemonSet": "apps",
    "Job": "batch",
    "CronJob": "batch",
    "Pod": "",
}
REPLICATED_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet"})
"""Workloads whose replica count an HPA or `spec.replicas` sets (and a PDB should guard)."""

HPA_TARGET_KINDS = REPLICATED_KINDS


def is_kind(obj: K8sObject, kind: str, group: str | None = None) -> bool:
    """Matches the type token's kind (and group when given), ignoring the version."""
    return obj.kind == kind and (group is None or obj.group == group)


def is_workload(obj: K8sObject) -> bool:
    return obj.kind in WORKLOAD_KINDS and obj.group == WORKLOAD_KINDS[obj.kind]


def pod_template(obj: K8sObject) -> tuple[dict[str, Any], dict[str, Any]]:
    """(pod metadata, pod spec) of a workload; unknown parts raise UnknownValueError."""
    if obj.kind == "Pod":
        return as_dict(obj.props.get("metadata")), as_dict(obj.props.get("spec"))
    if obj.kind == "CronJob":
        template = dig(obj.props, "spec", "jobTemplate", "spec", "template", default={})
    else:
        template = dig(obj.props, "spec", "template", default={})
    template = as_dict(template)
    return as_dict(template.get("metadata")), as_dict(template.get("spec"))


def pod_labels(obj: K8sObject) -> dict[str, Any]:
    metadata, _ = pod_template(obj)
    return as_dict(metadata.get("labels"))


def containers(pod_spec: Mapping[str, Any], *, init: bool = True) -> Iterator[dict[str, Any]]:
    """Regular containers, then init containers; unknown entries are skipped."""
    keys = ("containers", "initContainers") if init else ("containers",)
    for key in keys:
        for container in as_list(pod_spec.get(key)):
            if isinstance(container, dict):
                yield container


def container_name(container: Mapping[str, Any]) -> str:
    name = container.get("name")
    return str(name) if isinstance(name, str) and not is_unknown(name) else "?"


def replicas(obj: K8sObject) -> int | None:
    """spec.replicas as the program sets it (None when absent); unknown raises.

    After `up`, and in a preview of existing resources, stack rules see the live object, whose
    spec.replicas the API server defaulted (1, then the HPA's count). When server-side Apply
    managers are recorded, the field counts as set only if one of them (the provider's) owns it.
    """
    if "replicas" not in obj.spec:
        return None
    appliers = [
        entry
        for entry in as_list(obj.metadata.get("managedFields"))
        if isinstance(entry, dict) and entry.get("operation") == "Apply" and not entry.get("subresource")
    ]
    if appliers and not any(
        "f:replicas" in as_dict(dig(entry, "fieldsV1", "f:spec", default={})) for entry in appliers
    ):
        return None
    return as_int(obj.spec.get("replicas"))


# ---- selectors ---------------------------------------------------------------------------------


def selector_matches(selector: Any, labels: Mapping[str, Any]) -> bool | None:
    """Exact LabelSelector semantics: matchLabels AND every matchExpression.

    True/False when decidable, None when an unknown value makes it undecidable. A null selector
    selects nothing; an empty one ({}) selects everything.
    """
    if selector is None:
        return False
    if is_unknown(selector) or not isinstance(selector, dict):
        return None
    results: list[bool | None] = []
    match_labels = selector.get("matchLabels")
    if is_unknown(match_labels):
        return None
    for key, value in (match_labels or {}).items():
        actual = labels.get(key)
        if is_unknown(value) or is_unknown(actual):
            results.append(None)
        else:
            results.append(key in labels and actual == value)
    expressions = selector.get("matchExpressions")
    if is_unknown(expressions):
        return None
    for expression in expressions or []:
        results.append(_expression_matches(expression, labels))
    if False in results:
        return False
    if None in results:
        return None
    return True


def _expression_matches(expression: Any, labels: Mapping[str, Any]) -> bool | None:
    if not isinstance(expression, dict) or contains_unknown(expression):
        return None
    key = str(expression.get("key"))
    operator = expression.get("operator")
    values = expression.get("values") or []
    if key in labels and is_unknown(labels[key]):
        return None
    present = key in labels
    if operator == "In":
        return present and labels[key] in values
    if operator == "NotIn":
        return (not present) or labels[key] not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    return False  # an invalid operator selects nothing (the API server would reject it)


def equality_selector(selector: Mapping[str, Any]) -> dict[str, Any]:
    """A Service's map selector as a LabelSelector."""
    return {"matchLabels": dict(selector)}


# ---- stack index -------------------------------------------------------------------------------


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


def container_ports(pod_spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """All declared container ports of a pod (regular containers)."""
    ports: list[dict[str, Any]] = []
    for container in containers(pod_spec, init=False):
        ports.extend(p for p in as_list(container.get("ports")) if isinstance(p, dict))
    return ports


def port_resolves(port: Any, ports: Sequence[Mapping[str, Any]]) -> bool | None:
    """Whether a number or a port name resolves among declared container ports (None if unknown)."""
    if is_unknown(port) or any(contains_unknown(p) for p in ports):
        return None
    if isinstance(port, str):
        return any(p.get("name") == port for p in ports)
    number = as_int(port)
    return any(as_int(p.get("containerPort")) == number for p in ports)


# ---- volumes and single writers ----------------------------------------------------------------

SINGLE_WRITER_ANNOTATION = "hastack.dev/single-writer"
"""Workload annotation declaring it a single writer of its volume (value: why); see rwo-volume-rollout."""
SINGLE_NODE_MODES = frozenset({"ReadWriteOnce", "ReadWriteOncePod"})
"""Access modes that let only one node (or pod) mount the volume."""


def writable_claims(pod_spec: Mapping[str, Any]) -> list[str]:
    """Claim names of the pod's persistentVolumeClaim volumes that are not mounted read-only."""
    names: list[str] = []
    for volume in as_list(pod_spec.get("volumes")):
        claim = as_dict(volume.get("persistentVolumeClaim")) if isinstance(volume, dict) else {}
        if claim and not known(claim.get("readOnly")):
            names.append(str(known(claim.get("claimName"))))
    return names


def declared_single_writer(obj: K8sObject) -> str | None:
    """The reason given in the single-writer annotation, or None when the workload declares none."""
    value = known(as_dict(obj.metadata.get("annotations")).get(SINGLE_WRITER_ANNOTATION))
    reason = str(value).strip() if value is not None else ""
    return reason or None


def rollout_strategy(obj: K8sObject) -> str:
    """A Deployment's spec.strategy.type (RollingUpdate when unset, as the API server defaults it)."""
    return str(known(dig(obj.spec, "strategy", "type")) or "RollingUpdate")


def recreates_with_claim(obj: K8sObject) -> bool:
    """A Deployment that stops its pods before starting new ones and writes to a claim: a single
    writer in shape, whose strategy rwo-volume-rollout judges (with the claim's access modes)."""
    if not is_kind(obj, "Deployment", "apps") or rollout_strategy(obj) != "Recreate":
        return False
    _, spec = pod_template(obj)
    return bool(writable_claims(spec))


def single_writer_shape(obj: K8sObject) -> bool:
    """A workload whose pods write to a claim and that runs one pod (Recreate, or at most one replica
    set): a single writer in shape. Rules that cannot see the claim's access modes leave it to
    rwo-volume-rollout, since more replicas or a RollingUpdate may hang it on a ReadWriteOnce volume."""
    if obj.kind not in REPLICATED_KINDS or not is_workload(obj):
        return False
    _, spec = pod_template(obj)
    if not writable_claims(spec):
        return False
    count = as_int(obj.spec.get("replicas")) if "replicas" in obj.spec else None
    return recreates_with_claim(obj) or count is None or count <= 1


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
