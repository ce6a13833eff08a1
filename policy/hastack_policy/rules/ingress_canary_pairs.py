"""`ingress-canary-pairs`: An ingress-nginx canary Ingress has a weight within its total and exactly one
primary Ingress per host and path."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hastack_policy.objects import K8sObject, kinds, of_kind
from hastack_policy.rule import Rule
from hastack_policy.stack_index import Finding, each_subject
from hastack_policy.values import UnknownValueError, as_dict, as_list, dig, known

NGINX_CANARY = "nginx.ingress.kubernetes.io/canary"

NGINX_CANARY_WEIGHT = "nginx.ingress.kubernetes.io/canary-weight"

NGINX_CANARY_WEIGHT_TOTAL = "nginx.ingress.kubernetes.io/canary-weight-total"


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


def ingress_canary_pairs(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """ingress-nginx applies a canary Ingress only beside one primary Ingress for the same host and
    path, honours one canary per host and path, and needs a weight within its total.
    """
    ingresses = of_kind(objs, "Ingress")
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


RULE = Rule(
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
    stack_check=ingress_canary_pairs,
    kinds=kinds("Ingress"),
)
