"""`httproute-weights`: HTTPRoute backend weights are all explicit, not all zero, and add up to the agreed
total."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hastack_policy.objects import K8sObject, kinds
from hastack_policy.rule import Rule
from hastack_policy.values import as_dict, as_int, as_list

DEFAULT_BACKEND_WEIGHT = 1
"""Gateway API: a backendRef without weight has weight 1."""


def httproute_weights(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """Weights are proportions: all zero drops every request; an implicit weight 1 next to percentages
    starves that backend; a split adding up to the agreed total reads as percentages.
    """
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


RULE = Rule(
    id="httproute-weights",
    description="HTTPRoute backend weights are all explicit, not all zero, and add up to the agreed total.",
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
    resource_check=httproute_weights,
    kinds=kinds("HTTPRoute"),
)
