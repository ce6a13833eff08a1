"""The objects the rules read: one Kubernetes resource as a plain view (K8sObject), the kinds by API
group, workloads and their pod templates, exact label selectors, ports, and the shapes of single
writers. What two or more rules share lives here; what one rule needs lives in its own module."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hastack.wire import is_unknown

from .values import UnknownValueError, as_dict, as_int, as_list, contains_unknown, dig, known

API_GROUPS: dict[str, str] = {
    "Deployment": "apps",
    "StatefulSet": "apps",
    "ReplicaSet": "apps",
    "DaemonSet": "apps",
    "Job": "batch",
    "CronJob": "batch",
    "Pod": "",
    "Service": "",
    "Secret": "",
    "Namespace": "",
    "ServiceAccount": "",
    "PersistentVolumeClaim": "",
    "HorizontalPodAutoscaler": "autoscaling",
    "PodDisruptionBudget": "policy",
    "Ingress": "networking.k8s.io",
    "NetworkPolicy": "networking.k8s.io",
    "RoleBinding": "rbac.authorization.k8s.io",
    "ClusterRoleBinding": "rbac.authorization.k8s.io",
    "Certificate": "cert-manager.io",
    "Gateway": "gateway.networking.k8s.io",
    "HTTPRoute": "gateway.networking.k8s.io",
    "BackendTrafficPolicy": "gateway.envoyproxy.io",
    "IngressRoute": "traefik.io",
    "Middleware": "traefik.io",
}
"""The API group of every kind a rule reads (core is ""): a rule declares its kinds by name, and is
never shown a same-named kind of another group (a Knative Service, say)."""

Kind = tuple[str, str]
"""(API group, kind)."""


def kinds(*names: str) -> frozenset[Kind]:
    """The kinds a rule reads, by name (their groups from API_GROUPS)."""
    return frozenset((API_GROUPS[name], name) for name in names)


def group_and_kind(type_token: str) -> Kind | None:
    """`kubernetes:apps/v1:Deployment` -> ("apps", "Deployment"); core is ""; None for other packages."""
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes":
        return None
    module = parts[1]
    group = module.rsplit("/", 1)[0] if "/" in module else module
    return ("" if group == "core" else group), parts[2]


@dataclass(frozen=True)
class K8sObject:
    """One resource as rules see it: type token, URN and plain properties."""

    type: str
    urn: str
    name: str
    props: dict[str, Any]
    provider_namespace: str | None = None

    @property
    def group(self) -> str:
        """API group from the type token (`kubernetes:apps/v1:Deployment` → `apps`; core → "")."""
        parts = self.type.split(":")
        if len(parts) != 3 or parts[0] != "kubernetes":
            return "?"
        module = parts[1]
        group = module.rsplit("/", 1)[0] if "/" in module else module
        return "" if group == "core" else group

    @property
    def kind(self) -> str:
        """Kind from the type token (last segment)."""
        parts = self.type.split(":")
        return parts[2] if len(parts) == 3 and parts[0] == "kubernetes" else ""

    @property
    def metadata(self) -> dict[str, Any]:
        """metadata ({} when absent; an unknown one raises UnknownValueError)."""
        value = known(self.props.get("metadata"))
        return value if isinstance(value, dict) else {}

    @property
    def spec(self) -> dict[str, Any]:
        """spec ({} when absent; an unknown one raises UnknownValueError)."""
        value = known(self.props.get("spec"))
        return value if isinstance(value, dict) else {}

    @property
    def obj_name(self) -> str:
        """metadata.name (raises UnknownValueError while unknown); falls back to the Pulumi name."""
        value = known(self.metadata.get("name"))
        return str(value) if value else self.name

    @property
    def namespace(self) -> str:
        """metadata.namespace, else the provider's namespace, else `default` (as the provider does)."""
        value = known(self.metadata.get("namespace"))
        if value:
            return str(value)
        return self.provider_namespace or "default"

    def display(self) -> str:
        """`Kind namespace/name` for messages; tolerant of unknown parts."""
        try:
            name = self.obj_name
        except UnknownValueError:
            name = f"{self.name} (name unknown)"
        if self.kind in CLUSTER_SCOPED_KINDS:
            return f"{self.kind} {name}"
        try:
            namespace = self.namespace
        except UnknownValueError:
            namespace = "(namespace unknown)"
        return f"{self.kind} {namespace}/{name}"


CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "StorageClass",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "IngressClass",
        "PriorityClass",
        "ClusterIssuer",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "APIService",
        "RuntimeClass",
        "CSIDriver",
        "GatewayClass",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    }
)


# ---- workloads ---------------------------------------------------------------------------------


WORKLOAD_KINDS = ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Job", "CronJob", "Pod")
"""The kinds that make pods (their groups: API_GROUPS)."""

REPLICATED_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet"})
"""Workloads whose replica count an HPA or `spec.replicas` sets (and a PDB should guard)."""

LONG_RUNNING_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Pod"})
"""Workloads whose pods serve until stopped (not run to completion): the ones probes are for."""
WORKLOADS = kinds(*WORKLOAD_KINDS)
REPLICATED = kinds(*REPLICATED_KINDS)
LONG_RUNNING = kinds(*LONG_RUNNING_KINDS)


def is_kind(obj: K8sObject, kind: str, group: str | None = None) -> bool:
    """Matches the type token's kind (and group when given), ignoring the version."""
    return obj.kind == kind and (group is None or obj.group == group)


def of_kind(objs: Sequence[K8sObject], kind: str) -> list[K8sObject]:
    """The objects of one kind (of its API group, API_GROUPS) among `objs`."""
    return [o for o in objs if o.kind == kind and o.group == API_GROUPS[kind]]


def by_name(objs: Sequence[K8sObject], kind: str) -> tuple[dict[tuple[str, str], K8sObject], bool]:
    """The objects of one kind by (namespace, name), and whether one's namespace or name is unknown
    (then a name missing from the map may still be there)."""
    found: dict[tuple[str, str], K8sObject] = {}
    unknown = False
    for obj in of_kind(objs, kind):
        try:
            found[(obj.namespace, obj.obj_name)] = obj
        except UnknownValueError:
            unknown = True
    return found, unknown


def is_workload(obj: K8sObject) -> bool:
    return obj.kind in WORKLOAD_KINDS and obj.group == API_GROUPS[obj.kind]


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


def missing_resources(
    obj: K8sObject, requests: Sequence[str], limits: Sequence[str]
) -> Iterator[tuple[str, list[str]]]:
    """Per container, init containers included (they are scheduled and run on the same node, and an
    unbounded one starves its neighbours just the same), the `resources.<side>.<name>` fields it leaves
    unset; init containers are named so."""
    if not is_workload(obj):
        return
    _, spec = pod_template(obj)
    regular = {id(c) for c in containers(spec, init=False)}
    for container in containers(spec, init=True):
        resources = as_dict(container.get("resources"))
        missing = [
            f"resources.{side}.{name}"
            for side, names in (("requests", requests), ("limits", limits))
            for name in names
            if as_dict(resources.get(side)).get(name) in (None, "")
        ]
        if missing:
            kind = "container" if id(container) in regular else "init container"
            yield f"{kind} {container_name(container)}", missing


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


# ---- ports, hosts, images ----------------------------------------------------------------------


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


def port_list(ports: Sequence[Mapping[str, Any]], number: str) -> str:
    """Declared ports as messages list them: `name:number`, or the number alone (`number` names the
    field: containerPort, port)."""
    return ", ".join(
        f"{p.get('name')}:{as_int(p.get(number))}" if p.get("name") else str(as_int(p.get(number)))
        for p in ports
    )


def host_covered(host: str, tls_hosts: Iterable[str]) -> bool:
    """Exact match, or a `*.` wildcard covering exactly one more label."""
    for pattern in tls_hosts:
        if pattern == host:
            return True
        if (
            pattern.startswith("*.")
            and "." in host
            and host.split(".", 1)[1] == pattern[2:]
            and not host.startswith("*.")
        ):
            return True
    return False


def image_tag(image: str) -> str | None:
    """The tag of an image reference without a digest (None: no tag)."""
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


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


def ingressroute_refs(
    route: K8sObject, key: str
) -> Iterator[tuple[int, str, tuple[str, str], dict[str, Any]]]:
    """(route index, where, (namespace, name), entry) for every `spec.routes[i].<key>[j]` of a Traefik
    IngressRoute (`services`, `middlewares`); a reference without namespace is in the route's own."""
    for i, entry in enumerate(as_dict(r) for r in as_list(route.spec.get("routes"))):
        for j, ref in enumerate(as_dict(s) for s in as_list(entry.get(key))):
            name = (known(ref.get("namespace")) or route.namespace, str(known(ref.get("name"))))
            yield i, f"spec.routes[{i}].{key}[{j}]", name, ref
