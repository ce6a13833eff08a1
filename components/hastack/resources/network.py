"""The app's NetworkPolicy: in from the entry point (ingress controller or Gateway proxies) and the
apps that call it, out to DNS, the apps it calls and its egress allowances, each on its ports only."""

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from hastack.config import AppConfig, EgressConfig, EnvironmentConfig, Neighbours
from hastack.controllers import GATEWAY_CONTROLLERS_BY_NAME, ingress_controller_for
from hastack.references import RemoteCallee, stack_labels
from hastack.resources.labels import ENVIRONMENT_LABEL, OPEN_EGRESS_ANNOTATION, common_labels, name_labels

DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


def controller_namespace(stack: EnvironmentConfig) -> str | None:
    """Where the ingress controller runs: configured, else the profile's usual namespace."""
    if stack.ingress is None:
        return None
    if stack.ingress.controller_namespace:
        return stack.ingress.controller_namespace
    controller = ingress_controller_for(stack.ingress.class_name, stack.ingress.controller)
    return controller.default_namespace if controller else None


def gateway_proxy_namespace(stack: EnvironmentConfig) -> str | None:
    """Where the Gateway's proxies run: configured, else the implementation's usual namespace."""
    if stack.gateway is None:
        return None
    return (
        stack.gateway.proxy_namespace
        or GATEWAY_CONTROLLERS_BY_NAME[stack.gateway.implementation].default_proxy_namespace
    )


def entry_namespace(app: AppConfig, stack: EnvironmentConfig) -> str | None:
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


def network_policy_spec(
    app: AppConfig,
    stack: EnvironmentConfig,
    neighbours: Neighbours,
    remote: Sequence[RemoteCallee] = (),
    project: str = "",
) -> dict[str, Any]:
    """Ingress from the controller (if exposed) and from the apps that call this one (of this
    namespace, and of other stacks of `project` by their namespace's labels); egress to DNS, to the
    apps this one calls (`remote`: of other stacks, in the namespace their stack exports), and to the
    configured allowances, each on its ports only.

    Selectors name the app only (not the instance), so a canary gets exactly the stable pods' rules.
    """
    port = [{"protocol": "TCP", "port": app.port}]
    peers: list[dict[str, Any]] = []
    source_ns = entry_namespace(app, stack)
    if source_ns is not None:
        peers.append({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": source_ns}}})
    peers.extend({"podSelector": {"matchLabels": name_labels(caller)}} for caller in neighbours.callers)
    peers.extend(
        {
            "namespaceSelector": {"matchLabels": stack_labels(project, caller.stack)},
            "podSelector": {"matchLabels": name_labels(caller.app)},
        }
        for caller in app.allow_from_stacks
    )
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
            "to": [{"podSelector": {"matchLabels": name_labels(callee.name)}}],
            "ports": [{"protocol": "TCP", "port": callee.port}],
        }
        for callee in neighbours.callees
    )
    egress_rules.extend(
        {
            "to": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": callee.namespace}},
                    "podSelector": {"matchLabels": name_labels(callee.app)},
                }
            ],
            "ports": [{"protocol": "TCP", "port": callee.port}],
        }
        for callee in remote
    )
    egress_rules.extend(rule for rule in map(egress_rule, app.egress) if rule is not None)
    return {
        "podSelector": {"matchLabels": name_labels(app.name)},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": ingress_rules,
        "egress": egress_rules,
    }


def open_egress_reasons(app: AppConfig) -> str | None:
    """The reasons given for the app's open egress allowances, for the NetworkPolicy's annotation."""
    reasons = [e.reason for e in app.egress if e.is_open() and e.reason is not None]
    return "; ".join(reasons) if reasons else None


def network_policy(
    app: AppConfig,
    stack: EnvironmentConfig,
    neighbours: Neighbours,
    namespace: pulumi.Input[str],
    parent: pulumi.Resource,
    remote: Sequence[RemoteCallee] = (),
) -> k8s.networking.v1.NetworkPolicy:
    labels = {**common_labels(app), ENVIRONMENT_LABEL: stack.environment}
    metadata: dict[str, Any] = {"namespace": namespace, "labels": labels}
    reasons = open_egress_reasons(app)
    if reasons is not None:
        metadata["annotations"] = {OPEN_EGRESS_ANNOTATION: reasons}
    return k8s.networking.v1.NetworkPolicy(
        app.name,
        metadata=metadata,
        spec=network_policy_spec(app, stack, neighbours, remote, pulumi.get_project()),
        opts=pulumi.ResourceOptions(parent=parent),
    )
