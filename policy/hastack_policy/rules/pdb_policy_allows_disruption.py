"""`pdb-policy-allows-disruption`: A PodDisruptionBudget sets one policy that can allow an eviction."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hastack_policy.objects import K8sObject, kinds
from hastack_policy.rule import Rule
from hastack_policy.values import as_int, known


def pdb_policy_allows_disruption(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """A PDB that can never be satisfied blocks node drains and cluster upgrades forever."""
    spec = obj.spec
    has_min = spec.get("minAvailable") is not None
    has_max = spec.get("maxUnavailable") is not None
    if has_min and has_max:
        yield f"{obj.display()} sets both minAvailable and maxUnavailable: keep only maxUnavailable: 1"
    elif not has_min and not has_max:
        yield f"{obj.display()} sets neither minAvailable nor maxUnavailable: set maxUnavailable: 1"
    max_unavailable = known(spec.get("maxUnavailable"))
    if has_max and (
        as_int(max_unavailable) == 0 or (isinstance(max_unavailable, str) and max_unavailable.strip() == "0%")
    ):
        yield (
            f"{obj.display()} spec.maxUnavailable is {max_unavailable}: no pod may ever be "
            "evicted; set maxUnavailable: 1"
        )
    min_available = known(spec.get("minAvailable"))
    if isinstance(min_available, str) and min_available.strip() == "100%":
        yield f"{obj.display()} spec.minAvailable is 100%: no pod may ever be evicted; set maxUnavailable: 1"
    if cfg.get("requireAlwaysAllow"):
        policy = known(spec.get("unhealthyPodEvictionPolicy"))
        if policy != "AlwaysAllow":
            yield (
                f"{obj.display()} spec.unhealthyPodEvictionPolicy is {policy or 'unset (IfHealthyBudget)'}: "
                "crash-looping pods then block drains; set unhealthyPodEvictionPolicy: AlwaysAllow"
            )


RULE = Rule(
    id="pdb-policy-allows-disruption",
    description="A PodDisruptionBudget sets one policy that can allow an eviction.",
    severity="high",
    remediation=(
        "Use maxUnavailable: 1 (not 0, not minAvailable 100%) and unhealthyPodEvictionPolicy: AlwaysAllow."
    ),
    category="ha",
    default_enforcement="mandatory",
    config={
        "requireAlwaysAllow": {
            "type": "boolean",
            "default": True,
            "description": "require unhealthyPodEvictionPolicy: AlwaysAllow",
        }
    },
    resource_check=pdb_policy_allows_disruption,
    kinds=kinds("PodDisruptionBudget"),
    profile_settings=lambda profile: {"requireAlwaysAllow": profile.require_always_allow},
)
