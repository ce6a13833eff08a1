"""`no-service-account-token`: Pods do not mount a service-account token."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hastack.wire import show
from hastack_policy.objects import WORKLOADS, K8sObject, is_workload, kinds, pod_template
from hastack_policy.rule import Rule
from hastack_policy.values import UnknownValueError, as_dict, as_list, known

RBAC_GROUP = "rbac.authorization.k8s.io"

BINDING_KINDS = frozenset({"RoleBinding", "ClusterRoleBinding"})


def _service_account_facts(
    objs: Sequence[K8sObject],
) -> tuple[set[tuple[str, str]], set[tuple[str, str]], bool]:
    """(service accounts a RoleBinding or ClusterRoleBinding of the stack grants permissions to, those
    whose ServiceAccount object turns token automount off, whether some binding could not be read)."""
    bound: set[tuple[str, str]] = set()
    no_automount: set[tuple[str, str]] = set()
    undecided = False
    for obj in objs:
        try:
            if obj.kind == "ServiceAccount" and obj.group == "":
                if known(obj.props.get("automountServiceAccountToken")) is False:
                    no_automount.add((obj.namespace, obj.obj_name))
            elif obj.kind in BINDING_KINDS and obj.group == RBAC_GROUP:
                home = obj.namespace if obj.kind == "RoleBinding" else ""
                for entry in as_list(obj.props.get("subjects")):
                    subject = as_dict(entry)
                    if known(subject.get("kind")) == "ServiceAccount":
                        namespace = known(subject.get("namespace")) or home
                        bound.add((str(namespace), str(known(subject.get("name")))))
        except UnknownValueError:
            undecided = undecided or obj.kind in BINDING_KINDS
    return bound, no_automount, undecided


def no_service_account_token(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """A mounted service-account token is an API credential a compromised app should not hold, unless
    the app calls the API: a pod whose ServiceAccount a Role or ClusterRole binding of the stack grants
    permissions needs its token."""
    bound, no_automount, undecided = _service_account_facts(objs)
    for obj in objs:
        if not is_workload(obj):
            continue
        try:
            _, spec = pod_template(obj)
            value = known(spec.get("automountServiceAccountToken"))
            account = str(
                known(spec.get("serviceAccountName")) or known(spec.get("serviceAccount")) or "default"
            )
            key = (obj.namespace, account)
            if value is False or undecided or key in bound or (value is None and key in no_automount):
                continue
        except UnknownValueError:
            continue
        yield (
            obj.urn,
            f"{obj.display()} pod spec automountServiceAccountToken is {show(value)} (mounted by default) "
            f"and no RoleBinding or ClusterRoleBinding of the stack grants ServiceAccount {account} "
            "anything: set automountServiceAccountToken: false",
        )


RULE = Rule(
    id="no-service-account-token",
    tier="hardening",
    description="Pods do not mount a service-account token.",
    severity="medium",
    remediation=(
        "Set automountServiceAccountToken: false in the pod spec (or on its ServiceAccount); a pod "
        "that calls the Kubernetes API keeps its token through the Role binding of its own "
        "ServiceAccount."
    ),
    category="security",
    default_enforcement="advisory",
    stack_check=no_service_account_token,
    kinds=WORKLOADS | kinds(*BINDING_KINDS) | kinds("ServiceAccount"),
)
