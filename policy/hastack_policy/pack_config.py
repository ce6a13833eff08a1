"""The pack's per-environment config, derived from the environment profiles (hastack.config.profiles):
each rule says what it takes from a profile (`Rule.profile_settings`).

`policy/config/<env>.json` is this module's output, written by `make docs` (a test fails when a
committed file is stale), so config validation and the pack's thresholds come from one table and
agree by construction. Enforcement follows each rule's tier: baseline rules are mandatory in every
environment, hardening rules take the profile's `hardening` level, advice is advisory.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hastack.config.profiles import PROFILES, EnvironmentProfile

from .rule import Level, Rule
from .rules import RULES


def _level(rule: Rule, profile: EnvironmentProfile) -> Level:
    if rule.tier == "hardening" and rule.id in profile.kept_mandatory:
        return "mandatory"
    return {"baseline": "mandatory", "hardening": profile.hardening, "advice": "advisory"}[rule.tier]


def pack_config(environment: str, catalog: tuple[Rule, ...] = RULES) -> dict[str, dict[str, Any]]:
    """The policy config of one profile (an environment, or `outside`): every rule, its level and every
    setting spelled out."""
    profile = PROFILES[environment]
    thresholds: Mapping[str, Mapping[str, Any]] = {
        rule.id: rule.profile_settings(profile) for rule in catalog if rule.profile_settings is not None
    }
    by_id = {rule.id: rule for rule in catalog}
    unknown = [f"{r}.{k}" for r, values in thresholds.items() for k in values if k not in by_id[r].config]
    if unknown:
        raise ValueError(f"profile settings for settings no rule has: {', '.join(unknown)}")
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
