"""A rule and the adapter that serves it as a pulumi-policy Policy.

Rules are plain functions over plain data (dicts, lists, floats), so they are testable without an
analyzer; the adapter unwraps pulumi-policy's unknown-checking proxies, shows each rule only the
kinds it declared, and turns a value unknown during a preview into "skip this check" rather than a
crash or a false violation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from hastack.config.profiles import EnvironmentProfile
from hastack.pulumi_internals.decode_once import declare_types, once_per_request
from hastack.pulumi_internals.private import policy_proxy_types
from hastack.wire import is_unknown

from .objects import K8sObject, Kind, group_and_kind
from .values import UnknownValueError

_DICT_PROXY, _LIST_PROXY = policy_proxy_types()

PACK_NAME = "hastack-ha"

RULES_DOC = "policy/README.md"
"""The generated rule reference (`make docs`), relative to the hastack repository: a rule's `url` is
its section there."""

SeverityName = Literal["low", "medium", "high", "critical"]

Level = Literal["advisory", "mandatory", "disabled"]

Tier = Literal["baseline", "hardening", "advice"]

_SCALARS = (str, float, int, bool, type(None))


def plain(value: Any) -> Any:
    """Unwraps pulumi_policy's unknown-checking proxies into plain dicts and lists (unknowns kept)."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        return {k: plain(v) for k, v in value.items()}
    if kind is list:
        return [plain(v) for v in value]
    if isinstance(value, _DICT_PROXY):
        return {k: plain(v) for k, v in value["__target"].items()}
    if isinstance(value, _LIST_PROXY):
        return [plain(v) for v in value["__target"]]
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def plain_props(props: Any) -> Any:
    """`plain(props)` once per resource per analyzer request (hastack.pulumi_internals.decode_once):
    every rule reads the same copy, none changes it (its tests check that)."""
    return once_per_request("plain", props, plain)


ResourceCheck = Callable[[K8sObject, Mapping[str, Any]], Iterable[str]]
"""Yields one message per violation of a single resource."""

StackCheck = Callable[[Sequence[K8sObject], Mapping[str, Any]], Iterable[tuple[str, str]]]
"""Yields (urn, message) per violation found across the whole stack."""


@dataclass(frozen=True)
class Rule:
    """A catalog entry: what it checks (one check function, named after the id), the kinds it reads,
    how bad a finding is, how to fix it, how it is configured, and what it takes from the profiles."""

    id: str
    description: str
    severity: SeverityName
    remediation: str
    category: Literal["ha", "security"]
    default_enforcement: Level
    tier: Tier = "baseline"
    """How environments enforce it (`hastack_policy.pack_config`): baseline rules are mandatory
    everywhere, hardening rules at the environment profile's `hardening` level, advice is advisory."""
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """JSON schema per config property; each carries a `default` the rule falls back to."""
    resource_check: ResourceCheck | None = None
    stack_check: StackCheck | None = None
    kinds: frozenset[Kind] | None = None
    """The kinds the rule reads, with their API groups (`objects.kinds`; None: every Kubernetes kind),
    declared once: the pack never runs the rule on other resources (`looks_at`,
    `decode_once.declare_types`), so a check does not test the kind again."""
    profile_settings: Callable[[EnvironmentProfile], Mapping[str, Any]] | None = None
    """The config values an environment profile sets (its floors), for policy/config/<env>.json; the
    other settings keep their schema defaults."""

    def looks_at(self, resource_type: str) -> bool:
        """Whether the rule reads resources of this type token (its checks see no others)."""
        found = group_and_kind(resource_type)
        return found is not None and (self.kinds is None or found in self.kinds)

    @property
    def check(self) -> ResourceCheck | StackCheck:
        """The one function that judges: named after the rule's id."""
        found = self.resource_check or self.stack_check
        assert found is not None, f"{self.id} has no check"
        return found

    @property
    def url(self) -> str:
        """The rule's section of the generated reference (RULES_DOC)."""
        return f"{RULES_DOC}#{self.id}"

    @property
    def scope(self) -> Literal["resource", "stack"]:
        return "resource" if self.resource_check is not None else "stack"

    def settings(self, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
        """Schema defaults overlaid with the configured values (the engine may omit defaults)."""
        merged = {key: schema.get("default") for key, schema in self.config.items()}
        merged.update({k: v for k, v in (overrides or {}).items() if k != "enforcementLevel"})
        return merged

    def run_resource(self, obj: K8sObject, overrides: Mapping[str, Any] | None = None) -> list[str]:
        """Runs the resource check; an unknown value ends the check without a violation."""
        assert self.resource_check is not None
        messages: list[str] = []
        with contextlib.suppress(UnknownValueError):
            messages.extend(self.resource_check(obj, self.settings(overrides)))
        return messages

    def run_stack(
        self, objs: Sequence[K8sObject], overrides: Mapping[str, Any] | None = None
    ) -> list[tuple[str, str]]:
        """Runs the stack check (it skips unknowns per subject itself)."""
        assert self.stack_check is not None
        return list(self.stack_check(objs, self.settings(overrides)))

    def to_policy(self) -> ResourceValidationPolicy | StackValidationPolicy:
        """The pulumi_policy object the analyzer serves."""
        schema = (
            PolicyConfigSchema(properties={k: dict(v) for k, v in self.config.items()})
            if self.config
            else None
        )
        common: dict[str, Any] = {
            "name": self.id,
            "description": self.description,
            "enforcement_level": EnforcementLevel(self.default_enforcement),
            "config_schema": schema,
            "severity": Severity(self.severity),
            "remediation_steps": self.remediation,
            "url": self.url,
            "tags": [self.category],
        }
        if self.resource_check is not None:

            def validate_resource(args: ResourceValidationArgs, report: ReportViolation) -> None:
                if not self.looks_at(args.resource_type):
                    return
                obj = K8sObject(
                    type=args.resource_type,
                    urn=args.urn,
                    name=args.name,
                    props=plain_props(args.props),
                    provider_namespace=_provider_namespace(args.provider),
                )
                for message in self.run_resource(obj, args.get_config()):
                    report(message, None)

            resource_policy = ResourceValidationPolicy(validate=validate_resource, **common)
            declare_types(resource_policy, self.looks_at)
            return resource_policy

        def validate_stack(args: StackValidationArgs, report: ReportViolation) -> None:
            objs = [
                K8sObject(
                    type=r.resource_type,
                    urn=r.urn,
                    name=r.name,
                    props=plain_props(r.props),
                    provider_namespace=_provider_namespace(r.provider),
                )
                for r in args.resources
                if self.looks_at(r.resource_type)
            ]
            for urn, message in self.run_stack(objs, args.get_config()):
                report(message, urn)

        stack_policy = StackValidationPolicy(validate=validate_stack, **common)
        declare_types(stack_policy, self.looks_at)
        return stack_policy


def _provider_namespace(provider: Any) -> str | None:
    """The `namespace` an explicit kubernetes provider puts namespaced resources in, if known."""
    if provider is None or not str(getattr(provider, "resource_type", "")).startswith(
        "pulumi:providers:kubernetes"
    ):
        return None
    value = plain(getattr(provider, "props", {}) or {}).get("namespace")
    return value if isinstance(value, str) and value and not is_unknown(value) else None
