"""`network-policy-coverage`: Every pod is selected by a NetworkPolicy (and namespaces deny by default
where required)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hastack.wire import is_unknown
from hastack_policy.objects import WORKLOADS, K8sObject, kinds, selector_matches
from hastack_policy.rule import Rule
from hastack_policy.stack_index import Finding, Workload, build_index, each_subject
from hastack_policy.values import UnknownValueError, as_dict, as_list, known


def _is_default_deny(policy: K8sObject) -> bool:
    spec = policy.spec
    selector = as_dict(spec.get("podSelector"))
    if selector.get("matchLabels") or selector.get("matchExpressions"):
        return False
    types = [str(known(t)) for t in as_list(spec.get("policyTypes"))] or ["Ingress"]
    return "Ingress" in types and not as_list(spec.get("ingress"))


def network_policy_coverage(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """Pods no NetworkPolicy selects accept traffic from anywhere in the cluster."""
    index = build_index(objs)
    policies = index.of_kind("NetworkPolicy", "networking.k8s.io")
    by_namespace: dict[str, list[K8sObject]] = {}
    unknown = False
    for policy in policies:
        try:
            by_namespace.setdefault(policy.namespace, []).append(policy)
        except UnknownValueError:
            unknown = True
    if unknown:
        return

    def check(workload: Workload) -> Iterator[Finding]:
        maybe = False
        for policy in by_namespace.get(workload.namespace, []):
            selector = policy.spec.get("podSelector")
            result = (
                True
                if selector is not None and not is_unknown(selector) and not as_dict(selector)
                else selector_matches(selector, workload.labels)
            )
            if result:
                return  # one policy selecting the pods is enough (the namespace's default deny, first)
            maybe = maybe or result is None
        if not maybe:
            yield (
                workload.obj.urn,
                f"{workload.display()} pods are selected by no NetworkPolicy in namespace "
                f"{workload.namespace}: add a default-deny policy (podSelector: {{}}) and an "
                "allow policy for the app",
            )

    yield from each_subject(index.workloads, check)
    if cfg.get("requireDefaultDeny"):
        for namespace in sorted({w.namespace for w in index.workloads}):
            try:
                if any(_is_default_deny(p) for p in by_namespace.get(namespace, [])):
                    continue
            except UnknownValueError:
                continue
            urn = next(w.obj.urn for w in index.workloads if w.namespace == namespace)
            yield (
                urn,
                f"namespace {namespace} has no default-deny NetworkPolicy (podSelector {{}}, policyTypes "
                "[Ingress, Egress], no rules): add one",
            )


RULE = Rule(
    id="network-policy-coverage",
    tier="hardening",
    description="Every pod is selected by a NetworkPolicy (and namespaces deny by default where required).",
    severity="high",
    remediation=(
        "Add a default-deny NetworkPolicy (podSelector: {}) per namespace plus per-app allow policies."
    ),
    category="security",
    default_enforcement="mandatory",
    config={
        "requireDefaultDeny": {
            "type": "boolean",
            "default": True,
            "description": "require a namespace-wide default-deny policy",
        }
    },
    stack_check=network_policy_coverage,
    kinds=WORKLOADS | kinds("NetworkPolicy"),
)
