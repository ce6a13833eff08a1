"""`ingress-backend-exists`: Every Ingress backend names a Service of the stack and one of its ports."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hastack_policy.objects import K8sObject, by_name, kinds, port_list
from hastack_policy.rule import Rule
from hastack_policy.stack_index import Finding, build_index, each_subject
from hastack_policy.values import as_dict, as_int, as_list, dig, known


def _backends(ingress: K8sObject) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, backend.service) for the default backend and every path."""
    spec = ingress.spec
    default = as_dict(dig(spec, "defaultBackend", "service"))
    if default:
        yield "spec.defaultBackend", default
    for i, rule in enumerate(as_list(spec.get("rules"))):
        for j, path in enumerate(as_list(dig(rule, "http", "paths"))):
            service = as_dict(dig(path, "backend", "service"))
            if service:
                yield f"spec.rules[{i}].http.paths[{j}]", service


def ingress_backend_exists(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """A backend naming a missing Service or port returns 503 for that path."""
    index = build_index(objs)
    services, unknown_service = by_name(objs, "Service")

    def check(ingress: K8sObject) -> Iterator[Finding]:
        for where, backend in _backends(ingress):
            name = known(backend.get("name"))
            port = as_dict(backend.get("port"))
            service = services.get((ingress.namespace, name))
            if service is None:
                if not unknown_service:
                    yield (
                        ingress.urn,
                        f"{ingress.display()} {where} backend names Service {name}, which is not "
                        "in namespace "
                        f"{ingress.namespace} of this stack: use the Service's metadata.name",
                    )
                continue
            ports = [as_dict(p) for p in as_list(service.spec.get("ports"))]
            number, port_name = port.get("number"), known(port.get("name"))
            if number is not None:  # an ExternalName alias has no ports: the backend's number is used
                ok = known(service.spec.get("type")) == "ExternalName" or any(
                    as_int(p.get("port")) == as_int(number) for p in ports
                )
                wanted = f"port.number {as_int(number)}"
            else:
                ok = any(known(p.get("name")) == port_name for p in ports)
                wanted = f"port.name '{port_name}'"
            if not ok:
                offered = port_list(ports, "port")
                yield (
                    ingress.urn,
                    f"{ingress.display()} {where} backend {wanted} is not a port of {service.display()} "
                    f"(ports: {offered or 'none'}): use one of those",
                )

    yield from each_subject(index.of_kind("Ingress", "networking.k8s.io"), check)


RULE = Rule(
    id="ingress-backend-exists",
    description="Every Ingress backend names a Service of the stack and one of its ports.",
    severity="high",
    remediation="Use the Service's metadata.name and one of its port numbers or names.",
    category="ha",
    default_enforcement="mandatory",
    stack_check=ingress_backend_exists,
    kinds=kinds("Service", "Ingress"),
)
