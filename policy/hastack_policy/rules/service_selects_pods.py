"""`service-selects-pods`: A Service selects the pods of a workload and its targetPort resolves to a
container port."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hastack.wire import show
from hastack_policy.objects import (
    WORKLOADS,
    K8sObject,
    container_ports,
    equality_selector,
    kinds,
    port_list,
    port_resolves,
)
from hastack_policy.rule import Rule
from hastack_policy.stack_index import Finding, build_index, each_subject, selected_workloads
from hastack_policy.values import as_dict, as_int, as_list, known


def service_selects_pods(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """A Service that selects no pods, or whose targetPort resolves in none, routes traffic nowhere.

    A named targetPort must be declared by the pods; a number is judged only against pods that
    declare ports (an undeclared port is still reachable, so pods declaring none are not judged).
    """
    index = build_index(objs)

    def check(service: K8sObject) -> Iterator[Finding]:
        spec = service.spec
        if known(spec.get("type")) == "ExternalName":
            return
        selector = as_dict(spec.get("selector"))
        if not selector:
            return  # endpoints managed elsewhere
        matched, maybe = selected_workloads(index, service.namespace, equality_selector(selector))
        if not matched:
            if not maybe:
                shown = ", ".join(f"{k}={v}" for k, v in selector.items())
                yield (
                    service.urn,
                    f"{service.display()} spec.selector {{{shown}}} selects the pods of no "
                    "workload in namespace "
                    f"{service.namespace}: match the workload's pod template labels",
                )
            return
        for entry in as_list(spec.get("ports")):
            port = as_dict(entry)
            target = known(port.get("targetPort"))
            if target is None:
                target = known(port.get("port"))
            for workload in matched:
                ports = container_ports(workload.pod_spec)
                if not isinstance(target, str) and not ports:
                    continue  # a number reaches the pod's port whether or not a container declares it
                if port_resolves(target, ports) is False:
                    declared = port_list(ports, "containerPort")
                    if isinstance(target, str):
                        shown, fix = f"'{target}'", "a named targetPort must be declared: use one of those"
                    else:
                        shown = str(as_int(target))
                        fix = "use one of those, or declare the port if the container listens on it"
                    yield (
                        service.urn,
                        f"{service.display()} port {show(port.get('port'))} targetPort {shown} "
                        "matches no container "
                        f"port of {workload.display()} (declared: {declared or 'none'}): {fix}",
                    )

    yield from each_subject(index.of_kind("Service", ""), check)


RULE = Rule(
    id="service-selects-pods",
    description="A Service selects the pods of a workload and its targetPort resolves to a container port.",
    severity="high",
    remediation=(
        "Make spec.selector match the pod template labels and targetPort name a declared container port."
    ),
    category="ha",
    default_enforcement="mandatory",
    stack_check=service_selects_pods,
    kinds=WORKLOADS | kinds("Service"),
)
