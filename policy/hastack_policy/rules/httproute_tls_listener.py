"""`httproute-tls-listener`: Every host of an HTTPRoute with backends is served by an HTTPS listener of its
Gateway (when the Gateway is in the stack)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hastack_policy.objects import API_GROUPS, K8sObject, host_covered, kinds, of_kind
from hastack_policy.rule import Rule
from hastack_policy.stack_index import Finding, each_subject
from hastack_policy.values import UnknownValueError, as_dict, as_list, dig, known


def _redirects_to_https(route: K8sObject) -> bool:
    """True when every rule only redirects to https (the route that upgrades plain-HTTP requests)."""
    rules = [as_dict(r) for r in as_list(route.spec.get("rules"))]
    if not rules:
        return False
    for rule in rules:
        if as_list(rule.get("backendRefs")):
            return False
        filters = [as_dict(f) for f in as_list(rule.get("filters"))]
        if not any(
            known(f.get("type")) == "RequestRedirect" and dig(f, "requestRedirect", "scheme") == "https"
            for f in filters
        ):
            return False
    return True


def _terminates_tls(listener: Mapping[str, Any]) -> bool:
    tls = as_dict(listener.get("tls"))
    return (
        known(listener.get("protocol")) == "HTTPS"
        and (known(tls.get("mode")) or "Terminate") == "Terminate"
        and bool(as_list(tls.get("certificateRefs")))
    )


def _listener_covers(listener: Mapping[str, Any], host: str | None) -> bool:
    """A listener without hostname accepts every host; a route without hostnames takes the listener's."""
    pattern = known(listener.get("hostname"))
    if not pattern or host is None:
        return True
    return host_covered(host, [str(pattern)])


def httproute_tls_listener(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """A route serving backends must be reached over TLS: its hosts need an HTTPS listener of the
    Gateway it attaches to (judged when that Gateway is in the stack; a shared one is not).
    """
    gateways: dict[tuple[str, str], K8sObject] = {}
    for gateway in of_kind(objs, "Gateway"):
        try:
            gateways[(gateway.namespace, gateway.obj_name)] = gateway
        except UnknownValueError:
            return

    def check(route: K8sObject) -> Iterator[Finding]:
        if _redirects_to_https(route):
            return
        hosts: list[str | None] = [str(known(h)) for h in as_list(route.spec.get("hostnames"))] or [None]
        for i, ref in enumerate(as_dict(r) for r in as_list(route.spec.get("parentRefs"))):
            if (known(ref.get("group")) or API_GROUPS["HTTPRoute"]) != API_GROUPS["HTTPRoute"] or (
                known(ref.get("kind")) or "Gateway"
            ) != "Gateway":
                continue
            namespace = known(ref.get("namespace")) or route.namespace
            gateway = gateways.get((namespace, known(ref.get("name"))))
            if gateway is None:
                continue
            listeners = [as_dict(item) for item in as_list(gateway.spec.get("listeners"))]
            section = known(ref.get("sectionName"))
            if section:
                listeners = [item for item in listeners if known(item.get("name")) == section]
                if not listeners:
                    yield (
                        route.urn,
                        f"{route.display()} spec.parentRefs[{i}] sectionName {section} names no listener of "
                        f"{gateway.display()}: use the name of its HTTPS listener",
                    )
                    continue
            for host in hosts:
                serving = [item for item in listeners if _listener_covers(item, host)]
                if not any(_terminates_tls(item) for item in serving):
                    shown = host or "(every host of the listener)"
                    names = ", ".join(str(known(item.get("name"))) for item in serving) or "none"
                    yield (
                        route.urn,
                        f"{route.display()} host {shown} is served by no HTTPS listener of "
                        f"{gateway.display()} that terminates TLS with a certificateRef (listeners "
                        f"accepting it: {names}): attach the route to an HTTPS listener (sectionName) "
                        "covering the host",
                    )

    yield from each_subject(of_kind(objs, "HTTPRoute"), check)


RULE = Rule(
    id="httproute-tls-listener",
    tier="hardening",
    description=(
        "Every host of an HTTPRoute with backends is served by an HTTPS listener of its Gateway "
        "(when the Gateway is in the stack)."
    ),
    severity="high",
    remediation=(
        "Attach the route (parentRefs[].sectionName) to a listener with protocol HTTPS, tls.mode "
        "Terminate and a certificateRef whose hostname covers the route's hostnames; serve plain HTTP "
        "only with a RequestRedirect to https."
    ),
    category="security",
    default_enforcement="mandatory",
    stack_check=httproute_tls_listener,
    kinds=kinds("Gateway", "HTTPRoute"),
)
