"""Weighted traffic and Gateway API rules: HTTPRoute backends and TLS listeners, traffic split
weights, and ingress-nginx canary Ingresses paired with their primary. A canary Deployment needs no
rule of its own: every HA and security rule judges it like any other Deployment.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .base import K8sObject, Rule, UnknownValueError, as_dict, as_int, as_list, dig, known
from .k8s import is_kind
from .stack import Finding, each_subject, host_covered

GATEWAY_GROUP = "gateway.networking.k8s.io"
NGINX_CANARY = "nginx.ingress.kubernetes.io/canary"
NGINX_CANARY_WEIGHT = "nginx.ingress.kubernetes.io/canary-weight"
NGINX_CANARY_WEIGHT_TOTAL = "nginx.ingress.kubernetes.io/canary-weight-total"
DEFAULT_BACKEND_WEIGHT = 1
"""Gateway API: a backendRef without weight has weight 1."""


def _routes(objs: Sequence[K8sObject]) -> list[K8sObject]:
    return [o for o in objs if is_kind(o, "HTTPRoute", GATEWAY_GROUP)]


def _service_backends(route: K8sObject) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, backendRef) for every backendRef that points at a core Service (the default)."""
    for i, rule in enumerate(as_list(route.spec.get("rules"))):
        for j, ref in enumerate(as_dict(r) for r in as_list(as_dict(rule).get("backendRefs"))):
            group = known(ref.get("group")) or ""
            kind = known(ref.get("kind")) or "Service"
            if group == "" and kind == "Service":
                yield f"spec.rules[{i}].backendRefs[{j}]", ref


# ---- httproute-backend-exists ------------------------------------------------------------------


def check_httproute_backends(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """A backendRef naming a missing Service or port makes the Gateway answer 500 for its share."""
    services: dict[tuple[str, str], K8sObject] = {}
    unknown_service = False
    for service in (o for o in objs if is_kind(o, "Service", "")):
        try:
            services[(service.namespace, service.obj_name)] = service
        except UnknownValueError:
            unknown_service = True

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
            offered = ", ".join(str(as_int(p.get("port"))) for p in ports) or "none"
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

    yield from each_subject(_routes(objs), check)


# ---- httproute-tls-listener --------------------------------------------------------------------


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


def check_httproute_tls(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """A route serving backends must be reached over TLS: its hosts need an HTTPS listener of the
    Gateway it attaches to (judged when that Gateway is in the stack; a shared one is not).
    """
    gateways: dict[tuple[str, str], K8sObject] = {}
    for gateway in (o for o in objs if is_kind(o, "Gateway", GATEWAY_GROUP)):
        try:
            gateways[(gateway.namespace, gateway.obj_name)] = gateway
        except UnknownValueError:
            return

    def check(route: K8sObject) -> Iterator[Finding]:
        if _redirects_to_https(route):
            return
        hosts: list[str | None] = [str(known(h)) for h in as_list(route.spec.get("hostnames"))] or [None]
        for i, ref in enumerate(as_dict(r) for r in as_list(route.spec.get("parentRefs"))):
            if (known(ref.get("group")) or GATEWAY_GROUP) != GATEWAY_GROUP or (
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

    yield from each_subject(_routes(objs), check)


# ---- httproute-weights -------------------------------------------------------------------------


def check_httproute_weights(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """Weights are proportions: all zero drops every request; an implicit weight 1 next to percentages
    starves that backend; a split adding up to the agreed total reads as percentages.
    """
    if not is_kind(obj, "HTTPRoute", GATEWAY_GROUP):
        return
    total_needed = int(cfg["weightTotal"])
    for i, rule in enumerate(as_list(obj.spec.get("rules"))):
        refs = [as_dict(r) for r in as_list(as_dict(rule).get("backendRefs"))]
        if not refs:
            continue
        weights = [as_int(r.get("weight")) for r in refs]
        where = f"{obj.display()} spec.rules[{i}].backendRefs"
        total = sum(DEFAULT_BACKEND_WEIGHT if w is None else w for w in weights)
        if total <= 0:
            yield (
                f"{where} weights add up to 0, so every request fails (500): give the serving backend a "
                "positive weight"
            )
            continue
        if len(refs) < 2:
            continue
        implicit = [j for j, w in enumerate(weights) if w is None]
        if implicit and len(implicit) < len(refs):
            yield (
                f"{where}[{implicit[0]}] has no weight (it counts as 1) beside explicit weights: "
                "set every weight of a split"
            )
        elif total_needed and not implicit and total != total_needed:
            shown = " + ".join(str(w) for w in weights)
            yield (
                f"{where} weights {shown} add up to {total}, not {total_needed}: make them percentages "
                f"that add up to {total_needed}"
            )


# ---- ingress-canary-pairs ----------------------------------------------------------------------


def _ingress_paths(ingress: K8sObject) -> list[tuple[str, str]]:
    """(host, path) of every rule path of an Ingress."""
    found = []
    for rule in as_list(ingress.spec.get("rules")):
        host = str(known(as_dict(rule).get("host")) or "")
        for path in as_list(dig(rule, "http", "paths")):
            found.append((host, str(known(as_dict(path).get("path")) or "/")))
    return found


def _is_canary(ingress: K8sObject) -> bool:
    annotations = as_dict(ingress.metadata.get("annotations"))
    return str(known(annotations.get(NGINX_CANARY)) or "").lower() == "true"


def check_ingress_canary(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """ingress-nginx applies a canary Ingress only beside one primary Ingress for the same host and
    path, honours one canary per host and path, and needs a weight within its total.
    """
    ingresses = [o for o in objs if is_kind(o, "Ingress", "networking.k8s.io")]
    primaries: dict[tuple[str, str, str], list[K8sObject]] = {}
    canaries: dict[tuple[str, str, str], list[K8sObject]] = {}
    for ingress in ingresses:
        try:
            target = canaries if _is_canary(ingress) else primaries
            for host, path in _ingress_paths(ingress):
                target.setdefault((ingress.namespace, host, path), []).append(ingress)
        except UnknownValueError:
            return

    def check(ingress: K8sObject) -> Iterator[Finding]:
        if not _is_canary(ingress):
            return
        annotations = as_dict(ingress.metadata.get("annotations"))
        weight_text = known(annotations.get(NGINX_CANARY_WEIGHT))
        total_text = known(annotations.get(NGINX_CANARY_WEIGHT_TOTAL)) or "100"
        total = int(total_text) if str(total_text).isdigit() else None
        if weight_text is None:
            yield (
                ingress.urn,
                f"{ingress.display()} is a canary without {NGINX_CANARY_WEIGHT}: it gets no weighted "
                f"share; set {NGINX_CANARY_WEIGHT} between 0 and {total or 100}",
            )
        elif not str(weight_text).isdigit() or total is None or int(weight_text) > total:
            yield (
                ingress.urn,
                f"{ingress.display()} {NGINX_CANARY_WEIGHT} is {weight_text!r} with a total of "
                f"{total_text!r}: set a whole number between 0 and the total (default 100)",
            )
        for host, path in _ingress_paths(ingress):
            key = (ingress.namespace, host, path)
            shown = f"{host or '*'}{path}"
            found = primaries.get(key, [])
            if len(found) != 1:
                names = ", ".join(p.display() for p in found) or "none"
                yield (
                    ingress.urn,
                    f"{ingress.display()} is a canary for {shown}, which needs exactly one primary "
                    f"(non-canary) Ingress in namespace {ingress.namespace} (found: {names}): give the "
                    "canary the primary's host and path",
                )
            if len(canaries.get(key, [])) > 1:
                names = ", ".join(c.display() for c in canaries[key])
                yield (
                    ingress.urn,
                    f"{ingress.display()} is one of {len(canaries[key])} canaries for {shown} ({names}); "
                    "ingress-nginx honours only one: keep one canary per host and path",
                )

    yield from each_subject(ingresses, check)


# ---- retries-within-timeout -------------------------------------------------------------------

ENVOY_GATEWAY_GROUP = "gateway.envoyproxy.io"
_DURATION = re.compile(r"(\d+)(ms|h|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def duration_seconds(text: Any) -> float | None:
    """Envoy Gateway's durations (`1m30s`, `500ms`) in seconds; None when not one."""
    if not isinstance(text, str) or not re.fullmatch(r"(\d+(ms|h|m|s))+", text):
        return None
    return sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION.findall(text))


def check_retries_within_timeout(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """Retries that cannot finish inside the request timeout are cut short: the client sees the
    timeout instead of the healthy backend the last retry would have reached."""
    if not is_kind(obj, "BackendTrafficPolicy", ENVOY_GATEWAY_GROUP):
        return
    retry = as_dict(obj.spec.get("retry"))
    per_try = duration_seconds(dig(retry, "perRetry", "timeout"))
    request = duration_seconds(dig(obj.spec, "timeout", "http", "requestTimeout"))
    if not retry or per_try is None or request is None:
        return
    retries = as_int(retry.get("numRetries"))
    tries = (2 if retries is None else retries) + 1  # Envoy Gateway's default numRetries is 2
    if per_try * tries > request:
        yield (
            f"{obj.display()} spec.retry allows {tries} tries of {per_try:g}s ({per_try * tries:g}s) but "
            f"spec.timeout.http.requestTimeout is {request:g}s: raise the request timeout or lower "
            "perRetry.timeout or numRetries"
        )


RULES: tuple[Rule, ...] = (
    Rule(
        id="httproute-backend-exists",
        description="Every HTTPRoute Service backend names a Service of the stack and one of its ports.",
        severity="high",
        remediation="Set backendRefs[].name to the Service's metadata.name and port to one of its ports.",
        category="ha",
        default_enforcement="mandatory",
        stack_check=check_httproute_backends,
        kinds=frozenset({"Service", "HTTPRoute"}),
    ),
    Rule(
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
        stack_check=check_httproute_tls,
        kinds=frozenset({"Gateway", "HTTPRoute"}),
    ),
    Rule(
        id="httproute-weights",
        description=(
            "HTTPRoute backend weights are all explicit, not all zero, and add up to the agreed total."
        ),
        severity="high",
        remediation=(
            "Give every backendRef of a split a weight, as percentages adding up to 100 (e.g. 95 stable, "
            "5 canary); weight 0 parks a backend, but not every one."
        ),
        category="ha",
        default_enforcement="mandatory",
        config={
            "weightTotal": {
                "type": "integer",
                "minimum": 0,
                "default": 100,
                "description": "what the weights of a split add up to (0: any positive total)",
            }
        },
        resource_check=check_httproute_weights,
        kinds=frozenset({"HTTPRoute"}),
    ),
    Rule(
        id="ingress-canary-pairs",
        description=(
            "An ingress-nginx canary Ingress has a weight within its total and exactly one primary "
            "Ingress per host and path."
        ),
        severity="high",
        remediation=(
            "Give the canary Ingress the primary's hosts and paths, canary-weight between 0 and "
            "canary-weight-total (default 100), and keep one canary per host and path."
        ),
        category="ha",
        default_enforcement="mandatory",
        stack_check=check_ingress_canary,
        kinds=frozenset({"Ingress"}),
    ),
    Rule(
        id="retries-within-timeout",
        description="Gateway retries fit inside the request timeout, so the last retry can still answer.",
        severity="medium",
        remediation=(
            "Make spec.timeout.http.requestTimeout at least perRetry.timeout x (numRetries + 1), or lower "
            "them (hastack: apps[].ingress.retries and timeouts)."
        ),
        category="ha",
        default_enforcement="mandatory",
        tier="hardening",
        resource_check=check_retries_within_timeout,
        kinds=frozenset({"BackendTrafficPolicy"}),
    ),
)
