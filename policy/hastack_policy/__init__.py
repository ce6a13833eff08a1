"""The hastack-ha rule catalog. Importing it starts nothing: `policy/__main__.py` builds the pack."""

from __future__ import annotations

from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from . import ha, security, stack, traffic, volumes
from .base import PACK_NAME, K8sObject, Rule

PACK_VERSION = "1"
"""Must match `version` in PulumiPolicy.yaml (the CLI reports that one)."""

RULES: tuple[Rule, ...] = (*ha.RULES, *security.RULES, *stack.RULES, *traffic.RULES, *volumes.RULES)
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


def build_policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    """One pulumi_policy Policy per catalog rule, in catalog order."""
    return [rule.to_policy() for rule in RULES]


__all__ = ["PACK_NAME", "PACK_VERSION", "RULES", "RULES_BY_ID", "K8sObject", "Rule", "build_policies"]
