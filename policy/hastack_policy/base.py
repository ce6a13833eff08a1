"""Rule metadata and the adapter from plain rule functions to pulumi_policy Policy objects.

Rules are plain functions over plain data (dicts, lists, floats), so they are testable without
an analyzer; the adapter unwraps pulumi_policy's unknown-checking proxies and turns values unknown
during preview into "skip this check" rather than a crash or a false violation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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

from hastack.pulumi_internals.decode_once import declare_types, once_per_request
from hastack.pulumi_internals.private import policy_proxy_types
from hastack.wire import is_unknown

_DICT_PROXY, _LIST_PROXY = policy_proxy_types()

PACK_NAME = "hastack-ha"

SeverityName = Literal["low", "medium", "high", "critical"]
Level = Literal["advisory", "mandatory", "disabled"]
Tier = Literal["baseline", "hardening", "advice"]


class UnknownValueError(Exception):
    """A value a check needs is unknown during preview: the check is skipped, never failed."""


def contains_unknown(value: Any) -> bool:
    """True when an unknown sentinel sits anywhere inside `value`."""
    if is_unknown(value):
        return True
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False


def known(value: Any) -> Any:
    """Returns `value`, or raises UnknownValueError so the caller's check is skipped."""
    if is_unknown(value):
        raise UnknownValueError
    return value


def dig(obj: Any, *path: str | int, default: Any = None) -> Any:
    """Walks dicts/lists along `path`; missing → default; an unknown on the way → UnknownValueError."""
    current = known(obj)
    for step in path:
        if isinstance(step, int):
            if not isinstance(current, list) or step >= len(current):
                return default
            current = known(current[step])
        else:
            if not isinstance(current, dict) or step not in current:
                return default
            current = known(current[step])
    return default if current is None else current


def as_list(value: Any) -> list[Any]:
    """A known list (None → []); a non-list is treated as empty.

    Unknown, or holding an unknown element → UnknownValueError: a list with a hole cannot prove
    that something is missing from it.
    """
    value = known(value)
    if not isinstance(value, list):
        return []
    if any(is_unknown(item) for item in value):
        raise UnknownValueError
    return value


def as_dict(value: Any) -> dict[str, Any]:
    """A known dict (None → {}); unknown → UnknownValueError."""
    value = known(value)
    return value if isinstance(value, dict) else {}


def as_int(value: Any) -> int | None:
    """Numbers arrive as floats over protobuf: compare values, never types. None when not a number."""
    value = known(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


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


@dataclass(frozen=True)
class K8sObject:
    """One resource as rules see it: type token, URN and plain properties."""

    type: str
    urn: str
    name: str
    props: dict[str, Any]
    provider_namespace: str | None = None

    @property
    def group(self) -> str:
        """API group from the type token (`kubernetes:apps/v1:Deployment` → `apps`; core → "")."""
        parts = self.type.split(":")
        if len(parts) != 3 or parts[0] != "kubernetes":
            return "?"
        module = parts[1]
        group = module.rsplit("/", 1)[0] if "/" in module else module
        return "" if group == "core" else group

    @property
    def kind(self) -> str:
        """Kind from the type token (last segment)."""
        parts = self.type.split(":")
        return parts[2] if len(parts) == 3 and parts[0] == "kubernetes" else ""

    @property
    def metadata(self) -> dict[str, Any]:
        """metadata ({} when absent; an unknown one raises UnknownValueError)."""
        value = known(self.props.get("metadata"))
        return value if isinstance(value, dict) else {}

    @property
    def spec(self) -> dict[str, Any]:
        """spec ({} when absent; an unknown one raises UnknownValueError)."""
        value = known(self.props.get("spec"))
        return value if isinstance(value, dict) else {}

    @property
    def obj_name(self) -> str:
        """metadata.name (raises UnknownValueError while unknown); falls back to the Pulumi name."""
        value = known(self.metadata.get("name"))
        return str(value) if value else self.name

    @property
    def namespace(self) -> str:
        """metadata.namespace, else the provider's namespace, else `default` (as the provider does)."""
        value = known(self.metadata.get("namespace"))
        if value:
            return str(value)
        return self.provider_namespace or "default"

    def display(self) -> str:
        """`Kind namespace/name` for messages; tolerant of unknown parts."""
        try:
            name = self.obj_name
        except UnknownValueError:
            name = f"{self.name} (name unknown)"
        if self.kind in CLUSTER_SCOPED_KINDS:
            return f"{self.kind} {name}"
        try:
            namespace = self.namespace
        except UnknownValueError:
            namespace = "(namespace unknown)"
        return f"{self.kind} {namespace}/{name}"


CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "StorageClass",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "IngressClass",
        "PriorityClass",
        "ClusterIssuer",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "APIService",
        "RuntimeClass",
        "CSIDriver",
        "GatewayClass",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    }
)

ResourceCheck = Callable[[K8sObject, Mapping[str, Any]], Iterable[str]]
"""Yields one message per violation of a single resource."""

StackCheck = Callable[[Sequence[K8sObject], Mapping[str, Any]], Iterable[tuple[str, str]]]
"""Yields (urn, message) per violation found across the whole stack."""


@dataclass(frozen=True)
class Rule:
    """A catalog entry: what it checks, how bad it is, how to fix it, and how it is configured."""

    id: str
    description: str
    severity: SeverityName
    remediation: str
    category: Literal["ha", "security"]
    default_enforcement: Level
    tier: Tier = "baseline"
    """How environments enforce it (`hastack_policy.environments`): baseline rules are mandatory
    everywhere, hardening rules at the environment profile's `hardening` level, advice is advisory."""
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """JSON schema per config property; each carries a `default` the rule falls back to."""
    resource_check: ResourceCheck | None = None
    stack_check: StackCheck | None = None
    kinds: frozenset[str] | None = None
    """The kinds the rule reads (None: every Kubernetes kind). The pack never runs the rule on other
    resources (`looks_at`, `decode_once.declare_types`): a check must not depend on kinds it omits."""

    def looks_at(self, resource_type: str) -> bool:
        """Whether the rule reads resources of this type token (its checks see no others)."""
        return resource_type.startswith("kubernetes:") and (
            self.kinds is None or resource_type.rsplit(":", 1)[-1] in self.kinds
        )

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


def each_known(items: Iterable[Any]) -> Iterator[Any]:
    """Yields the items of a list, skipping unknown elements (they cannot be judged yet)."""
    for item in items:
        if not is_unknown(item):
            yield item
