"""The pack's per-environment config, derived from the environment profiles (hastack.config.profiles).

`policy/config/<env>.json` is this module's output, written by `make docs` (a test fails when a
committed file is stale), so config validation and the pack's thresholds come from one table and
agree by construction. Enforcement follows each rule's tier: baseline rules are mandatory in every
environment, hardening rules take the profile's `hardening` level, advice is advisory.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hastack.config.profiles import HOSTNAME_KEY, PROFILES, ZONE_KEY, EnvironmentRules
from hastack.config.types import RESERVED_NAMESPACES

from . import RULES
from .base import Level, Rule


def _thresholds(rules: EnvironmentRules) -> dict[str, dict[str, Any]]:
    """The settings each rule takes from the profile; the others keep their schema defaults."""
    spread = [ZONE_KEY] if rules.zone_spread is not None else []
    hard = [ZONE_KEY] if rules.zone_spread == "DoNotSchedule" else []
    return {
        "hpa-replica-bounds": {"minReplicas": rules.min_replicas},
        "min-replicas": {"minReplicas": rules.min_replicas},
        "probes-present": {"requireStartupProbe": rules.require_startup_probe},
        "spread-or-anti-affinity": {
            "requiredTopologyKeys": [*spread, HOSTNAME_KEY],
            "hardTopologyKeys": hard,
            "minDomains": rules.zone_min_domains or 0,
        },
        "pdb-allows-eviction": {"minAvailable": rules.min_available_during_disruption},
        "pss-restricted": {"minRunAsUser": rules.min_run_as_user},
        "image-pinned": {"requireDigest": rules.require_digest},
        "no-default-namespace": {"forbiddenNamespaces": list(RESERVED_NAMESPACES)},
        "rwo-volume-rollout": {"singleWriter": rules.single_writer},
        "pdb-policy-allows-disruption": {"requireAlwaysAllow": rules.require_always_allow},
    }


def _level(rule: Rule, rules: EnvironmentRules) -> Level:
    if rule.tier == "hardening" and rule.id in rules.kept_mandatory:
        return "mandatory"
    return {"baseline": "mandatory", "hardening": rules.hardening, "advice": "advisory"}[rule.tier]


def pack_config(environment: str, catalog: tuple[Rule, ...] = RULES) -> dict[str, dict[str, Any]]:
    """The policy config of one profile (an environment, or `outside`): every rule, its level and every
    setting spelled out."""
    rules = PROFILES[environment]
    thresholds: Mapping[str, Mapping[str, Any]] = _thresholds(rules)
    by_id = {rule.id: rule for rule in catalog}
    unknown = [f"{r}.{k}" for r, values in thresholds.items() for k in values if k not in by_id[r].config]
    if unknown:
        raise ValueError(f"profile thresholds for settings no rule has: {', '.join(unknown)}")
    stray = sorted(r for r in rules.kept_mandatory if r not in by_id or by_id[r].tier != "hardening")
    if stray:
        raise ValueError(f"profile {environment} keeps mandatory rules that are not hardening rules: {stray}")
    return {
        rule.id: {
            "enforcementLevel": _level(rule, rules),
            **{key: schema.get("default") for key, schema in rule.config.items()},
            **thresholds.get(rule.id, {}),
        }
        for rule in catalog
    }
