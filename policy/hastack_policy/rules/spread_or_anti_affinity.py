"""`spread-or-anti-affinity`: Multi-replica workloads spread their pods over nodes (and zones where
required)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hastack.config.profiles import HOSTNAME_KEY, ZONE_KEY, EnvironmentProfile
from hastack_policy.objects import (
    REPLICATED,
    K8sObject,
    declared_single_writer,
    pod_template,
    selector_matches,
    single_writer_shape,
)
from hastack_policy.rule import Rule
from hastack_policy.values import as_dict, as_int, as_list, dig, known

_ONE_PER_DOMAIN = 1_000_000
"""Stands for the minDomains of required anti-affinity: one pod per domain is stricter than any."""


def _spread_keys(
    spec: Mapping[str, Any], labels: Mapping[str, Any]
) -> tuple[set[str], set[str], dict[str, int]]:
    """(topology keys spread over, of which hard, the best minDomains of each hard key) from spread
    constraints and pod anti-affinity."""
    keys: set[str] = set()
    hard: set[str] = set()
    domains: dict[str, int] = {}
    for constraint in as_list(spec.get("topologySpreadConstraints")):
        if not isinstance(constraint, dict):
            continue
        if selector_matches(constraint.get("labelSelector"), labels) is False:
            continue  # spreads some other pods, not these
        key = known(constraint.get("topologyKey"))
        keys.add(key)
        if known(constraint.get("whenUnsatisfiable", "DoNotSchedule")) == "DoNotSchedule":
            hard.add(key)
            domains[key] = max(domains.get(key, 0), as_int(constraint.get("minDomains")) or 0)
    anti = as_dict(dig(spec, "affinity", "podAntiAffinity"))
    for term in as_list(anti.get("requiredDuringSchedulingIgnoredDuringExecution")):
        if isinstance(term, dict) and selector_matches(term.get("labelSelector"), labels) is not False:
            keys.add(known(term.get("topologyKey")))
            hard.add(known(term.get("topologyKey")))
            domains[known(term.get("topologyKey"))] = _ONE_PER_DOMAIN
    for weighted in as_list(anti.get("preferredDuringSchedulingIgnoredDuringExecution")):
        term = as_dict(dig(weighted, "podAffinityTerm"))
        if selector_matches(term.get("labelSelector"), labels) is not False:
            keys.add(known(term.get("topologyKey")))
    return keys, hard, domains


def spread_settings(profile: EnvironmentProfile) -> dict[str, Any]:
    """The keys an environment's pods must spread over (zone where the profile spreads by zone, hard
    where it is DoNotSchedule), and the minDomains of its hard zone spread."""
    spread = [ZONE_KEY] if profile.zone_spread is not None else []
    hard = [ZONE_KEY] if profile.zone_spread == "DoNotSchedule" else []
    return {
        "requiredTopologyKeys": [*spread, HOSTNAME_KEY],
        "hardTopologyKeys": hard,
        "minDomains": profile.zone_min_domains or 0,
    }


def spread_or_anti_affinity(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """Replicas on one node or zone fail together: spread them over the failure domains (single
    writers run one pod: nothing to spread)."""
    if declared_single_writer(obj) or single_writer_shape(obj):
        return
    count = as_int(obj.spec.get("replicas")) if "replicas" in obj.spec else None
    if count is not None and count < 2:
        return
    metadata, spec = pod_template(obj)
    keys, hard, domains = _spread_keys(spec, as_dict(metadata.get("labels")))
    required = [str(k) for k in cfg["requiredTopologyKeys"]]
    required_hard = [str(k) for k in cfg["hardTopologyKeys"]]
    missing = [k for k in required if k not in keys]
    soft_only = [k for k in required_hard if k in keys and k not in hard] + [
        k for k in required_hard if k not in keys and k not in required
    ]
    if missing:
        yield (
            f"{obj.display()} pods are not spread over {', '.join(missing)} (spread found: "
            f"{', '.join(sorted(keys)) or 'none'}): add spec.template.spec.topologySpreadConstraints "
            f"with topologyKey {missing[0]} and a labelSelector matching the pod labels"
        )
    if soft_only:
        yield (
            f"{obj.display()} spread over {', '.join(soft_only)} is not enforced: set "
            "whenUnsatisfiable: DoNotSchedule for it"
        )
    needed = int(cfg["minDomains"])
    for key in required_hard if needed > 0 else ():
        if key in hard and domains.get(key, 0) < needed:
            yield (
                f"{obj.display()} hard spread over {key} has minDomains {domains.get(key) or 'unset'}: with "
                f"fewer than {needed} domains the scheduler packs the pods into the ones there are; set "
                f"minDomains: {needed}"
            )
    for constraint in as_list(spec.get("topologySpreadConstraints")):
        when = known(dig(constraint, "whenUnsatisfiable", default="DoNotSchedule"))
        if (
            isinstance(constraint, dict)
            and constraint.get("minDomains") is not None
            and when != "DoNotSchedule"
        ):
            yield (
                f"{obj.display()} spread over {dig(constraint, 'topologyKey')} sets minDomains with "
                f"whenUnsatisfiable {when}, which the API server refuses: use DoNotSchedule or drop "
                "minDomains"
            )


RULE = Rule(
    id="spread-or-anti-affinity",
    tier="hardening",
    description="Multi-replica workloads spread their pods over nodes (and zones where required).",
    severity="medium",
    remediation=(
        "Add topologySpreadConstraints (or podAntiAffinity) whose labelSelector matches the pod labels, "
        "for each required topology key; use whenUnsatisfiable: DoNotSchedule for hard keys."
    ),
    category="ha",
    default_enforcement="advisory",
    config={
        "requiredTopologyKeys": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["kubernetes.io/hostname"],
            "description": "topology keys the pods must be spread over",
        },
        "hardTopologyKeys": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": "topology keys whose spread must be DoNotSchedule / required anti-affinity",
        },
        "minDomains": {
            "type": "integer",
            "minimum": 0,
            "default": 0,
            "description": "minDomains each hard topology key's spread must set (0: not checked)",
        },
    },
    resource_check=spread_or_anti_affinity,
    kinds=REPLICATED,
    profile_settings=spread_settings,
)
