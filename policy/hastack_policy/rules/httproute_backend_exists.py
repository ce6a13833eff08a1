"""`httproute-backend-exists`: Every HTTPRoute Service backend names a Service of the stack and one of its
ports."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hastack_policy.objects import K8sObject, by_name, kinds, of_kind, port_list
from hastack_policy.rule import Rule
from hastack_policy.stack_index import Finding, each_subject
from hastack_policy.values import as_dict, as_int, as_list, known


def _service_backends(route: K8sObject) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, backendRef) for every backendRef that points at a core Service (the default)."""
    for i, rule in enumerate(as_list(route.spec.get("rules"))):
        for j, ref in enumerate(as_dict(r) for r in as_list(as_dict(rule).get("backendRefs"))):
            group = known(ref.get("group")) or ""
            kind = known(ref.get("kind")) or "Service"
            if group == "" and kind == "Service":
                yield f"spec.rules[{i}].backendRefs[{j}]", ref


def httproute_backend_exists(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """A backendRef naming a missing Service or port makes the Gateway answer 500 for its share."""
    services, unknown_service = by_name(objs, "Service")

    def check(route: K8sObject) -> Iterator[Finding]:
        for where, ref in _service_backends(route):
            name = known(ref.get("name"))
            namespace = known(ref.get("namespace")) or route.namespace
            service = services.get((namespace, name))
            if service is None:
                if not unknown_service:
                    yield (
                        route.urn,
                        f"{route.display()} {where} names Service {namespace}/{name}, which is not in "
                        "this stack: use the Service's metadata.name (and create it in the stack)",
                    )
                continue
            port = as_int(ref.get("port"))
            ports = [as_dict(p) for p in as_list(service.spec.get("ports"))]
            offered = port_list([{"port": p.get("port")} for p in ports], "port") or "none"
            if port is None:
                yield (
                    route.urn,
                    f"{route.display()} {where} has no port; a Service backend needs one: set port to one "
                    f"of {service.display()}'s ports ({offered})",
                )
            elif not any(as_int(p.get("port")) == port for p in ports):
                yield (
                    route.urn,
                    f"{route.display()} {where} port {port} is not a port of {service.display()} "
                    f"(ports: {offered}): use one of those",
                )

    yield from each_subject(of_kind(objs, "HTTPRoute"), check)


RULE = Rule(
    id="httproute-backend-exists",
    description="Every HTTPRoute Service backend names a Service of the stack and one of its ports.",
    severity="high",
    remediation="Set backendRefs[].name to the Service's metadata.name and port to one of its ports.",
    category="ha",
    default_enforcement="mandatory",
    stack_check=httproute_backend_exists,
    kinds=kinds("Service", "HTTPRoute"),
)
