"""`ingressroute-refs-exist`: Every Traefik IngressRoute names Services, ports and Middlewares of the
stack."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hastack_policy.objects import K8sObject, by_name, ingressroute_refs, kinds, of_kind, port_list
from hastack_policy.rule import Rule
from hastack_policy.stack_index import Finding, each_subject
from hastack_policy.values import as_dict, as_int, as_list, known


def _port_matches(port: Any, ports: list[dict[str, Any]]) -> bool:
    """A port by number (the Service's `port`) or by the Service port's name."""
    if isinstance(port, str) and not port.isdigit():
        return any(known(p.get("name")) == port for p in ports)
    return any(as_int(p.get("port")) == as_int(port) for p in ports)


def ingressroute_refs_exist(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """Traefik drops a route whose Middleware is missing (every request of its hosts then gets 404) and
    answers 503 for a Service or port that does not exist."""
    services, unknown_service = by_name(objs, "Service")
    middlewares, unknown_middleware = by_name(objs, "Middleware")

    def check(route: K8sObject) -> Iterator[Finding]:
        for _, where, (namespace, name), ref in ingressroute_refs(route, "services"):
            if (known(ref.get("kind")) or "Service") != "Service":
                continue  # a TraefikService: weighted or mirrored services, checked by Traefik itself
            service = services.get((namespace, name))
            if service is None:
                if not unknown_service:
                    yield (
                        route.urn,
                        f"{route.display()} {where} names Service {namespace}/{name}, which is not in this "
                        "stack: use the Service's metadata.name",
                    )
                continue
            ports = [as_dict(p) for p in as_list(service.spec.get("ports"))]
            port = known(ref.get("port"))
            if port is None or not _port_matches(port, ports):
                offered = port_list(ports, "port") or "none"
                shown = port if isinstance(port, str) else as_int(port)
                yield (
                    route.urn,
                    f"{route.display()} {where} port {shown} is not a port of {service.display()} "
                    f"(ports: {offered}): use one of those, by number or name",
                )
        for _, where, (namespace, name), _ref in ingressroute_refs(route, "middlewares"):
            if (namespace, name) not in middlewares and not unknown_middleware:
                yield (
                    route.urn,
                    f"{route.display()} {where} names Middleware {namespace}/{name}, which is not in this "
                    "stack: Traefik drops the whole route (404 for its hosts); create it or remove the "
                    "reference",
                )

    yield from each_subject(of_kind(objs, "IngressRoute"), check)


RULE = Rule(
    id="ingressroute-refs-exist",
    description="Every Traefik IngressRoute names Services, ports and Middlewares of the stack.",
    severity="high",
    remediation=(
        "Name the Service by its metadata.name with one of its ports, and each Middleware by the name the "
        "stack gives it (in the route's namespace, or with namespace set)."
    ),
    category="ha",
    default_enforcement="mandatory",
    stack_check=ingressroute_refs_exist,
    kinds=kinds("Service", "Middleware", "IngressRoute"),
)
