"""`caller-egress-reaches-callee`: A workload that a NetworkPolicy admits by pod selector is let out by its
own egress rules to that callee on an admitted port."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hastack_policy.objects import WORKLOADS, K8sObject, container_ports, kinds, selector_matches
from hastack_policy.rule import Rule
from hastack_policy.stack_index import (
    Finding,
    StackIndex,
    Workload,
    build_index,
    each_subject,
    selected_workloads,
)
from hastack_policy.values import UnknownValueError, as_dict, as_int, as_list, known

NAME_LABEL = "kubernetes.io/metadata.name"
"""The label the API server puts on every namespace: its name."""

PROTOCOLS = ("TCP", "UDP", "SCTP")

PortRange = tuple[str, int, int]
"""(protocol, first, last) on the destination pod."""


def _and(*results: bool | None) -> bool | None:
    """Three-valued AND: False wins, then unknown (None), else True."""
    if False in results:
        return False
    return None if None in results else True


def _selector_keys(selector: Mapping[str, Any]) -> set[str]:
    keys = set(as_dict(selector.get("matchLabels")))
    keys.update(str(known(as_dict(e).get("key"))) for e in as_list(selector.get("matchExpressions")))
    return keys


def namespace_labels(index: StackIndex) -> dict[str, dict[str, Any]]:
    """The labels of every Namespace the stack creates (with the name label the API server adds)."""
    found: dict[str, dict[str, Any]] = {}
    for namespace in index.of_kind("Namespace", ""):
        try:
            name = namespace.obj_name
            found[name] = {**as_dict(namespace.metadata.get("labels")), NAME_LABEL: name}
        except UnknownValueError:
            continue
    return found


def namespace_selected(selector: Any, namespace: str, labels: Mapping[str, dict[str, Any]]) -> bool | None:
    """Whether a namespaceSelector selects `namespace`. A namespace the stack does not create is known
    by its name label only: a selector on other labels is undecided there (None)."""
    selector = known(selector)
    if not isinstance(selector, dict):
        return None
    if namespace in labels:
        return selector_matches(selector, labels[namespace])
    if _selector_keys(selector) <= {NAME_LABEL}:
        return selector_matches(selector, {NAME_LABEL: namespace})
    return None


def peer_selects(
    peer: Any, policy_namespace: str, pod: Workload, labels: Mapping[str, dict[str, Any]]
) -> bool | None:
    """Whether one NetworkPolicyPeer of a policy in `policy_namespace` selects the workload's pods:
    podSelector alone means the policy's namespace; with a namespaceSelector, the namespaces it
    selects; an ipBlock cannot be judged against pod addresses offline (None)."""
    peer = as_dict(peer)
    if "ipBlock" in peer:
        return None
    pods, namespaces = peer.get("podSelector"), peer.get("namespaceSelector")
    if pods is None and namespaces is None:
        return None
    in_namespace = (
        pod.namespace == policy_namespace
        if namespaces is None
        else namespace_selected(namespaces, pod.namespace, labels)
    )
    return _and(in_namespace, True if pods is None else selector_matches(known(pods), pod.labels))


def policy_types(policy: K8sObject) -> set[str]:
    """spec.policyTypes, defaulted as the API server does: Ingress, plus Egress when egress rules exist."""
    given = {str(known(t)) for t in as_list(policy.spec.get("policyTypes"))}
    if given:
        return given
    return {"Ingress", "Egress"} if as_list(policy.spec.get("egress")) else {"Ingress"}


def port_ranges(ports: Any, pod: Workload) -> list[PortRange]:
    """What a rule's `ports` allow on the destination pod: every port when empty; a named port is the
    pod's container port of that name (none when the pod declares no such name)."""
    entries = [as_dict(p) for p in as_list(ports)]
    if not entries:
        return [(protocol, 1, 65535) for protocol in PROTOCOLS]
    declared = container_ports(pod.pod_spec)
    ranges: list[PortRange] = []
    for entry in entries:
        protocol = str(known(entry.get("protocol")) or "TCP")
        port = known(entry.get("port"))
        if port is None:
            ranges.append((protocol, 1, 65535))
        elif isinstance(port, str):
            ranges.extend(
                (protocol, number, number)
                for p in declared
                if known(p.get("name")) == port
                and str(known(p.get("protocol")) or "TCP") == protocol
                and (number := as_int(p.get("containerPort"))) is not None
            )
        elif (first := as_int(port)) is not None:
            last = as_int(entry.get("endPort"))
            ranges.append((protocol, first, last if last is not None and last >= first else first))
    return ranges


def overlaps(these: Sequence[PortRange], those: Sequence[PortRange]) -> bool:
    return any(a[0] == b[0] and a[1] <= b[2] and b[1] <= a[2] for a in these for b in those)


def show_ports(ports: Any) -> str:
    entries = [as_dict(p) for p in as_list(ports)]
    if not entries:
        return "every port"
    shown = []
    for entry in entries:
        port, protocol = known(entry.get("port")), str(known(entry.get("protocol")) or "TCP")
        number = as_int(port) if not isinstance(port, str) else None
        text = "every port" if port is None else str(number if number is not None else port)
        end = as_int(entry.get("endPort"))
        shown.append(f"{text}{f'-{end}' if end is not None else ''}/{protocol}")
    return "port " + ", ".join(shown) if len(shown) == 1 else "ports " + ", ".join(shown)


def admitted_callers(
    index: StackIndex, policy_namespace: str, peers: Sequence[Any], labels: Mapping[str, dict[str, Any]]
) -> list[Workload]:
    """The workloads an ingress rule's `from` names by pod selector (definitely, not maybe), in stack
    order; a peer within the policy's namespace is looked up through the label index."""
    found: dict[str, Workload] = {}
    for peer in map(as_dict, peers):
        pods = peer.get("podSelector")
        if pods is None:
            continue  # a namespace or an address block admits sources, it names no caller
        pool = (
            index.selector_candidates(policy_namespace, known(pods))
            if peer.get("namespaceSelector") is None
            else index.workloads
        )
        for workload in pool:
            if peer_selects(peer, policy_namespace, workload, labels):
                found.setdefault(workload.obj.urn, workload)
    order = {w.obj.urn: position for position, w in enumerate(index.workloads)}
    return sorted(found.values(), key=lambda w: order[w.obj.urn])


@dataclass(frozen=True)
class _Admission:
    """A callee's ingress rule that names a caller: where it is, and the ports it admits on."""

    policy: K8sObject
    rule: int
    ports: Any
    callee: Workload


def caller_egress_reaches_callee(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """A caller admitted by name (a podSelector in an ingress rule) is refused on the way out when its
    own egress is restricted and no egress rule reaches the callee's pods on an admitted port."""
    index = build_index(objs)
    policies = index.of_kind("NetworkPolicy", "networking.k8s.io")
    labels = namespace_labels(index)
    if index.unknown_workloads:
        return  # a caller or a callee might hide there
    restricted: dict[str, list[K8sObject]] = {}
    """Per workload URN, the policies that restrict its egress (select it, with policyTypes Egress)."""
    undecided: set[str] = set()
    for policy in policies:
        try:
            if "Egress" not in policy_types(policy):
                continue
            namespace = policy.namespace
            matched, maybe = selected_workloads(index, namespace, known(policy.spec.get("podSelector")))
        except UnknownValueError:
            undecided.update(w.obj.urn for w in index.workloads)  # which pods it selects is unknown
            continue
        if maybe:
            undecided.update(w.obj.urn for w in index.workloads_in(namespace))
        for workload in matched:
            restricted.setdefault(workload.obj.urn, []).append(policy)

    def egress_policies(caller: Workload) -> list[K8sObject] | None:
        """The policies restricting the caller's egress (None: undecidable); [] leaves it unrestricted."""
        return None if caller.obj.urn in undecided else restricted.get(caller.obj.urn, [])

    def reaches(caller: Workload, admission: _Admission, restricting: list[K8sObject]) -> bool:
        admitted = port_ranges(admission.ports, admission.callee)
        for policy in restricting:
            for rule in map(as_dict, as_list(policy.spec.get("egress"))):
                peers = as_list(rule.get("to"))
                to_callee = not peers or any(
                    peer_selects(p, policy.namespace, admission.callee, labels) is not False for p in peers
                )
                if to_callee and overlaps(port_ranges(rule.get("ports"), admission.callee), admitted):
                    return True
        return False

    seen: set[tuple[str, str]] = set()

    def check(policy: K8sObject) -> Iterator[Finding]:
        if "Ingress" not in policy_types(policy):
            return
        callees, undecided = selected_workloads(
            index, policy.namespace, known(policy.spec.get("podSelector"))
        )
        if undecided:
            return
        for number, rule in enumerate(map(as_dict, as_list(policy.spec.get("ingress")))):
            callers = admitted_callers(index, policy.namespace, as_list(rule.get("from")), labels)
            for callee in callees:
                admission = _Admission(policy, number, rule.get("ports"), callee)
                if not port_ranges(admission.ports, callee):
                    continue  # admits no port the callee has: nothing flows either way
                for caller in callers:
                    if (caller.obj.urn, callee.obj.urn) in seen:
                        continue
                    restricting = egress_policies(caller)
                    if not restricting or reaches(caller, admission, restricting):
                        continue
                    seen.add((caller.obj.urn, callee.obj.urn))
                    names = ", ".join(f"{p.namespace}/{p.obj_name}" for p in restricting)
                    yield (
                        caller.obj.urn,
                        f"{caller.display()} is admitted to {callee.display()} on "
                        f"{show_ports(admission.ports)} by {policy.display()} spec.ingress[{number}], but no "
                        f"egress rule of the NetworkPolicies restricting its egress ({names}) reaches "
                        "those pods on it, so its connections are dropped: add an egress rule to them on "
                        "that port (hastack: declare the call once, in an AppGroup or with calls)",
                    )

    yield from each_subject(policies, check)


RULE = Rule(
    id="caller-egress-reaches-callee",
    description=(
        "A workload that a NetworkPolicy admits by pod selector is let out by its own egress rules "
        "to that callee on an admitted port."
    ),
    severity="high",
    remediation=(
        "Give the caller an egress rule to the callee's pods on the admitted port (to: podSelector "
        "matching them, with a namespaceSelector when they live elsewhere), or drop the ingress rule "
        "that admits it. With hastack, an app another one lists in allowFrom gets it from the stack "
        "file or an AppGroup; standalone HighlyAvailableApps need calls."
    ),
    category="ha",
    default_enforcement="mandatory",
    stack_check=caller_egress_reaches_callee,
    kinds=WORKLOADS | kinds("NetworkPolicy", "Namespace"),
)
