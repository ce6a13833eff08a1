"""The pack's per-environment config, derived from the environment profiles (hastack.config.profiles).

`policy/config/<env>.json` is this module's output, written by `make docs` (a test fails when a
committed file is stale), so config validation and the pack's thresholds come from one table and
agree by construction. Enforcement follows each rule's tier: baseline rules are mandatory in every
environment, hardening rules take the profile's `hardening` level, advice is advisory.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hastack.config.profiles import HOSTNAME_KEY, PROFILES, ZONE_KEY, EnvironmentProfile
from hastack.config.types import RESERVED_NAMESPACES

from . import RULES
from .base import Level, Rule


def _thresholds(profile: EnvironmentProfile) -> dict[str, dict[str, Any]]:
    """The settings each rule takes from the profile; the others keep their schema defaults."""
    spread = [ZONE_KEY] if profile.zone_spread is not None else []
    hard = [ZONE_KEY] if profile.zone_spread == "DoNotSchedule" else []
    return {
        "hpa-replica-bounds": {"minReplicas": profile.min_replicas},
        "min-replicas": {"minReplicas": profile.min_replicas},
        "probes-present": {"requireStartupProbe": profile.require_startup_probe},
        "spread-or-anti-affinity": {
            "requiredTopologyKeys": [*spread, HOSTNAME_KEY],
            "hardTopologyKeys": hard,
            "minDomains": profile.zone_min_domains or 0,
        },
        "pdb-allows-eviction": {"minAvailable": profile.min_available_during_disruption},
        "pss-restricted": {"minRunAsUser": profile.min_run_as_user},
        "image-pinned": {"requireDigest": profile.require_digest},
        "no-default-namespace": {"forbiddenNamespaces": list(RESERVED_NAMESPACES)},
        "rwo-volume-rollout": {"singleWriter": profile.single_writer},
        "pdb-policy-allows-disruption": {"requireAlwaysAllow": profile.require_always_allow},
    }


def _level(rule: Rule, profile: EnvironmentProfile) -> Level:
    if rule.tier == "hardening" and rule.id in profile.kept_mandatory:
        return "mandatory"
    return {"baseline": "mandatory", "hardening": profile.hardening, "advice": "advisory"}[rule.tier]


def pack_config(environment: str, catalog: tuple[Rule, ...] = RULES) -> dict[str, dict[str, Any]]:
    """The policy config of one profile (an environment, or `outside`): every rule, its level and every
    setting spelled out."""
    profile = PROFILES[environment]
    thresholds: Mapping[str, Mapping[str, Any]] = _thresholds(profile)
    by_id = {rule.id: rule for rule in catalog}
    unknown = [f"{r}.{k}" for r, values in thresholds.items() for k in values if k not in by_id[r].config]
    if unknown:
        raise ValueError(f"profile thresholds for settings no rule has: {', '.join(unknown)}")
    stray = sorted(r for r in profile.kept_mandatory if r not in by_id or by_id[r].tier != "hardening")
    if stray:
        raise ValueError(f"profile {environment} keeps mandatory rules that are not hardening rules: {stray}")
    return {
        rule.id: {
            "enforcementLevel": _level(rule, profile),
            **{key: schema.get("default") for key, schema in rule.config.items()},
            **thresholds.get(rule.id, {}),
        }
        for rule in catalog
    }
