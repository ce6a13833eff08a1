"""The hastack-ha policy pack's rules: one module per rule in `rules/` (check, metadata, remediation),
read through `objects`, `values` and, for rules that judge the stack at once, `stack_index`; served
by `rule.Rule.to_policy`. Importing it starts nothing: `policy/__main__.py` builds the pack."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from .objects import K8sObject
from .rule import PACK_NAME, Level, Rule
from .rules import RULES

PACK_VERSION = "1"
"""Must match `version` in PulumiPolicy.yaml (the CLI reports that one)."""

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


def build_policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    """One pulumi_policy Policy per catalog rule, in catalog order."""
    return [rule.to_policy() for rule in RULES]


@dataclass(frozen=True)
class Violation:
    """One finding of `evaluate`: what the analyzer would report for it."""

    rule: str
    level: Level
    urn: str
    message: str


def evaluate(objs: Sequence[K8sObject], config: Mapping[str, Mapping[str, Any]]) -> Iterator[Violation]:
    """Every rule over `objs` in this process, at the levels and settings of a policy config
    (policy/config/<env>.json): the analyzer's findings without its gRPC hop, for property tests
    that judge hundreds of stacks. Kind filters and settings are the adapter's (`Rule.to_policy`)."""
    for rule in RULES:
        entry = config.get(rule.id, {})
        level: Level = entry.get("enforcementLevel", rule.default_enforcement)
        if level == "disabled":
            continue
        subjects = [o for o in objs if rule.looks_at(o.type)]
        if rule.resource_check is not None:
            for obj in subjects:
                for message in rule.run_resource(obj, entry):
                    yield Violation(rule.id, level, obj.urn, message)
        else:
            for urn, message in rule.run_stack(subjects, entry):
                yield Violation(rule.id, level, urn, message)


__all__ = [
    "PACK_NAME",
    "PACK_VERSION",
    "RULES",
    "RULES_BY_ID",
    "K8sObject",
    "Rule",
    "Violation",
    "build_policies",
    "evaluate",
]
