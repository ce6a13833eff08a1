"""Namespace with Pod Security Admission, ServiceAccount, and NetworkPolicies (deny by default)."""

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from hastack.args import IsolatedNamespaceArgs, check_namespace
from hastack.config import AppConfig, EgressConfig, StackConfig
from hastack.controllers import GATEWAY_PROFILES_BY_NAME, profile_for
from hastack.labels import ENVIRONMENT_LABEL, OPEN_EGRESS_ANNOTATION, PART_OF, app_labels, common_labels

PSA_LEVEL = "restricted"
DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


def namespace_labels(environment: str) -> dict[str, str]:
    """Pod Security Admission enforces *restricted*, and audits and warns on it too."""
    labels = {"app.kubernetes.io/part-of": PART_OF, ENVIRONMENT_LABEL: environment}
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = PSA_LEVEL
        labels[f"pod-security.kubernetes.io/{mode}-version"] = "latest"
    return labels


def default_deny_spec() -> dict[str, Any]:
    """Selects every pod and allows nothing: each app then opens exactly what it needs."""
    return {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


class IsolatedNamespace(pulumi.ComponentResource):
    """A namespace for apps: PSA *restricted* labels and a default-deny NetworkPolicy.

    `args` names the namespace and the environment (hastack.args.IsolatedNamespaceArgs, checked
    like the apps' arguments), or is a loaded stack config (the repo's program).
    """

    name: pulumi.Output[str]
    """The namespace's name."""

    def __init__(
        self,
        resource_name: str,
        args: IsolatedNamespaceArgs | StackConfig,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        stack = (
            args
            if isinstance(args, StackConfig)
            else check_namespace(f"IsolatedNamespace({resource_name})", args)
        )
        super().__init__("hastack:index:IsolatedNamespace", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = k8s.core.v1.Namespace(
            resource_name,
            metadata={"name": stack.namespace, "labels": namespace_labels(stack.environment)},
            opts=child,
        )
        self.name = namespace.metadata.name
        self.default_deny = k8s.networking.v1.NetworkPolicy(
            f"{resource_name}-default-deny",
            metadata={"namespace": self.name, "labels": {"app.kubernetes.io/part-of": PART_OF}},
            spec=default_deny_spec(),
            opts=child,
        )
        self.register_outputs({"name": self.name})


def service_account(
    app: AppConfig, namespace: pulumi.Input[str], parent: pulumi.Resource
) -> k8s.core.v1.ServiceAccount:
    """An identity per app with no API token mounted: the app does not talk to the API server."""
    return k8s.core.v1.ServiceAccount(
        app.name,
        metadata={"namespace": namespace, "labels": common_labels(app)},
        automount_service_account_token=False,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def controller_namespace(stack: StackConfig) -> str | None:
    """Where the ingress controller runs: configured, else the profile's usual namespace."""
    if stack.ingress is None:
        return None
    if stack.ingress.controller_namespace:
        return stack.ingress.controller_namespace
    profile = profile_for(stack.ingress.class_name, stack.ingress.controller)
    return profile.default_namespace if profile else None


def gateway_proxy_namespace(stack: StackConfig) -> str | None:
    """Where the Gateway's proxies run: configured, else the implementation's usual namespace."""
    if stack.gateway is None:
        return None
    return (
        stack.gateway.proxy_namespace
        or GATEWAY_PROFILES_BY_NAME[stack.gateway.implementation].default_proxy_namespace
    )


def entry_namespace(app: AppConfig, stack: StackConfig) -> str | None:
    """Where the app's public traffic comes from: the ingress controller's or the Gateway proxies'
    namespace, by the app's exposure; None for an app that is not exposed.
    """
    exposure = stack.exposure_of(app)
    if exposure == "ingress":
        return controller_namespace(stack)
    if exposure == "gateway":
        return gateway_proxy_namespace(stack)
    return None


def egress_rule(egress: EgressConfig) -> dict[str, Any] | None:
    """One configured allowance as a NetworkPolicy egress rule (None for an app: see callees).

    Labels go to matchLabels as given (exact match, nothing added): a namespace-only selector
    allows every pod of the matching namespaces, a pod-only one pods of the app's own namespace.
    """
    peer: dict[str, Any]
    if egress.cidr is not None:
        block: dict[str, Any] = {"cidr": egress.cidr}
        if egress.except_:
            block["except"] = list(egress.except_)
        peer = {"ipBlock": block}
    elif egress.namespace_labels is not None or egress.pod_labels is not None:
        peer = {}
        for key, labels in (
            ("namespaceSelector", egress.namespace_labels),
            ("podSelector", egress.pod_labels),
        ):
            if labels is not None:
                # {} as the API server stores "every namespace" (matchLabels: {} would diff forever).
                peer[key] = {"matchLabels": dict(labels)} if labels else {}
    else:
        return None
    ports = [{"protocol": p.protocol, "port": p.port} for p in egress.ports]
    return {"to": [peer], "ports": ports}


def network_policy_spec(app: AppConfig, stack: StackConfig) -> dict[str, Any]:
    """Ingress from the controller (if exposed) and from the apps that call this one; egress to
    DNS, to the apps this one calls, and to the configured allowances, each on its ports only.

    Selectors name the app only (not the instance), so a canary gets exactly the stable pods' rules.
    """
    port = [{"protocol": "TCP", "port": app.port}]
    peers: list[dict[str, Any]] = []
    source_ns = entry_namespace(app, stack)
    if source_ns is not None:
        peers.append({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": source_ns}}})
    peers.extend({"podSelector": {"matchLabels": app_labels(caller)}} for caller in stack.callers_of(app))
    ingress_rules = [{"from": peers, "ports": port}] if peers else []
    egress_rules: list[dict[str, Any]] = [
        {
            "to": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": DNS_PORTS,
        }
    ]
    egress_rules.extend(
        {
            "to": [{"podSelector": {"matchLabels": app_labels(callee)}}],
            "ports": [{"protocol": "TCP", "port": callee.port}],
        }
        for callee in stack.callees_of(app)
    )
    egress_rules.extend(rule for rule in map(egress_rule, app.egress) if rule is not None)
    return {
        "podSelector": {"matchLabels": app_labels(app)},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": ingress_rules,
        "egress": egress_rules,
    }


def open_egress_reasons(app: AppConfig) -> str | None:
    """The reasons given for the app's open egress allowances, for the NetworkPolicy's annotation."""
    reasons = [e.reason for e in app.egress if e.is_open() and e.reason is not None]
    return "; ".join(reasons) if reasons else None


def network_policy(
    app: AppConfig, stack: StackConfig, namespace: pulumi.Input[str], parent: pulumi.Resource
) -> k8s.networking.v1.NetworkPolicy:
    labels = {**common_labels(app), ENVIRONMENT_LABEL: stack.environment}
    metadata: dict[str, Any] = {"namespace": namespace, "labels": labels}
    reasons = open_egress_reasons(app)
    if reasons is not None:
        metadata["annotations"] = {OPEN_EGRESS_ANNOTATION: reasons}
    return k8s.networking.v1.NetworkPolicy(
        app.name,
        metadata=metadata,
        spec=network_policy_spec(app, stack),
        opts=pulumi.ResourceOptions(parent=parent),
    )
