"""`egress-not-open`: NetworkPolicies allow no egress to every address or every namespace unless it is
acknowledged."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hastack.resources.labels import OPEN_EGRESS_ANNOTATION
from hastack_policy.objects import K8sObject, kinds
from hastack_policy.rule import Rule
from hastack_policy.values import as_dict, as_list, dig, known


def _open_destination(peer: Any) -> str | None:
    """What an egress peer opens to everything: a /0 block or a selector of every namespace."""
    if not isinstance(peer, dict):
        return None
    cidr = dig(peer, "ipBlock", "cidr")
    if isinstance(cidr, str) and cidr.endswith("/0"):
        return f"every address (ipBlock {cidr})"
    selector = known(peer.get("namespaceSelector"))
    if isinstance(selector, dict) and _selects_all(selector) and _selects_all(peer.get("podSelector")):
        return "every namespace (namespaceSelector {})"
    return None


def _selects_all(selector: Any) -> bool:
    """An absent or empty label selector: every namespace (or every pod of the selected ones). A peer
    `{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}` names the DNS pods of
    whatever namespace they run in, not every namespace."""
    selector = known(selector)
    if selector is None:
        return True
    return (
        isinstance(selector, dict)
        and not as_dict(selector.get("matchLabels"))
        and not as_list(selector.get("matchExpressions"))
    )


def egress_not_open(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """An app that may connect anywhere turns one compromised pod into a pivot to every network."""
    if str(known(as_dict(obj.metadata.get("annotations")).get(OPEN_EGRESS_ANNOTATION)) or "").strip():
        return
    for index, rule in enumerate(as_list(obj.spec.get("egress"))):
        if not isinstance(rule, dict):
            continue
        peers = as_list(rule.get("to"))
        opened = ["every destination (no `to`)"] if not peers else [_open_destination(p) for p in peers]
        for what in opened:
            if what is not None:
                yield (
                    f"{obj.display()} spec.egress[{index}] allows {what}: name the destination's block or "
                    f"namespace, or say why in the annotation {OPEN_EGRESS_ANNOTATION}"
                )


RULE = Rule(
    id="egress-not-open",
    description=(
        "NetworkPolicies allow no egress to every address or every namespace unless it is acknowledged."
    ),
    severity="high",
    remediation=(
        "Allow egress to the destination's CIDR block or namespace (hastack: apps[].egress); where a "
        f"destination really is open, say why in the NetworkPolicy annotation {OPEN_EGRESS_ANNOTATION} "
        "(hastack: egress[].reason)."
    ),
    category="security",
    default_enforcement="mandatory",
    tier="hardening",
    resource_check=egress_not_open,
    kinds=kinds("NetworkPolicy"),
)
