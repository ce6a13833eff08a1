"""Decode each resource once per analyzer request, run each rule on its types only: a thin layer over
pulumi-policy 1.21.0.

pulumi-policy's analyzer decodes a resource's properties (`json_format.MessageToDict`, then
`deserialize_properties`) inside its loop over policies: once per policy per Analyze request, and once
per stack policy per resource in AnalyzeStack. Its code is not copied here. `install()` rebinds six
names `pulumi_policy.policy` imported (`json_format`, `deserialize_properties`,
`unknown_checking_proxy`, `analyzer_pb2_grpc`, `signature`, `pulumi`) to stand-ins that behave the same,
except that within one Analyze / AnalyzeStack request a Struct already decoded is not decoded (nor
wrapped in unknown-checking proxies) again, a Struct is read directly rather than through json_format's
reflection, and the per-request runtime set-up neither parses PULUMI_CONFIG again while it is unchanged
nor inspects `Settings`'s signature again. A resource's options and provider are read once per request
too, and a policy that declared the resource types it reads (`declare_types`: every hastack rule) runs
on those types only; policies that declared nothing run on everything, as upstream runs them. The
Remediate call the engine makes before each Analyze answers at once when no policy remediates.

Sharing the decoded value and its proxy between policies is safe only for policies that never mutate
`args.props`: hastack-ha's rules read one plain copy (`hastack_policy.rule.plain_props`). Installed only
on the pinned version (anything else: the stock path, with a note on stderr);
`HASTACK_POLICY_DECODE_ONCE=0` turns it off. `tests/hastack/pulumi_internals/test_decode_once.py`
compares verdicts with the stock path on the same requests, so an upstream change in behaviour fails a
test. Importing this module changes nothing; what it buys: benchmarks/README.md.
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
import os
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pulumi.runtime
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy, proxy

from hastack.pulumi_internals.private import ModuleStandIn
from hastack.pulumi_internals.switches import switched_on

PINNED = "1.21.0"
"""The pulumi-policy version whose behaviour this layer was checked against."""

SWITCH = "HASTACK_POLICY_DECODE_ONCE"

_scope = threading.local()
"""Per gRPC worker thread: `caches`, by name, of the request being served (None or absent between
requests)."""

_READ_ONCE = ("_get_resource_options", "_get_provider_resource")
"""The servicer's per-resource readers `_ScopedServicer` shares between the policies of a request."""


def struct_to_dict(message: struct_pb2.Struct) -> dict[str, Any]:
    """What `json_format.MessageToDict` returns for a Struct, read directly (no reflection)."""
    return {key: _value(item) for key, item in message.fields.items()}


def _value(item: struct_pb2.Value) -> Any:
    kind = item.WhichOneof("kind")
    if kind == "string_value":
        return item.string_value
    if kind == "struct_value":
        return struct_to_dict(item.struct_value)
    if kind == "number_value":
        number = item.number_value
        if math.isinf(number) or math.isnan(number):
            return json_format.MessageToDict(item)  # raises json_format's own error
        return number
    if kind == "bool_value":
        return item.bool_value
    if kind == "list_value":
        return [_value(element) for element in item.list_value.values]
    return None


def once_per_request(name: str, key: Any, compute: Callable[[Any], Any]) -> Any:
    """`compute(key)` once per `key` object within the current request; no caching outside one
    (the value is shared by every policy of the request: read it, do not change it)."""
    caches: dict[str, dict[int, tuple[Any, Any]]] | None = getattr(_scope, "caches", None)
    if caches is None:
        return compute(key)
    cache = caches.get(name)
    if cache is None:
        cache = caches[name] = {}
    hit = cache.get(id(key))
    if hit is not None and hit[0] is key:  # the key is held, so its id cannot be reused meanwhile
        return hit[1]
    value = compute(key)
    cache[id(key)] = (key, value)
    return value


class _JsonFormat(ModuleStandIn):
    """Stands in for `google.protobuf.json_format` inside `pulumi_policy.policy`."""

    def __init__(self) -> None:
        super().__init__(json_format)

    @staticmethod
    def MessageToDict(message: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 - upstream's name
        if args or kwargs or not isinstance(message, struct_pb2.Struct):
            return json_format.MessageToDict(message, *args, **kwargs)
        return once_per_request("dicts", message, struct_to_dict)


def _decode_once(stock: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """`deserialize_properties`, once per decoded dict per request (secret-proxying calls: stock)."""

    def deserialize_properties(props: dict[str, Any], proxy_secrets: bool = False) -> dict[str, Any]:
        if proxy_secrets:
            return stock(props, proxy_secrets)
        result: dict[str, Any] = once_per_request("values", props, stock)
        return result

    return deserialize_properties


def _proxy_once(stock: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    """`unknown_checking_proxy`, once per decoded dict per request: the proxy tree (a wrapper and a
    path list per node) was rebuilt per policy."""

    def unknown_checking_proxy(props: dict[str, Any]) -> Any:
        return once_per_request("proxies", props, stock)

    return unknown_checking_proxy


def _signature_once(stock: Callable[..., inspect.Signature]) -> Callable[..., inspect.Signature]:
    """`inspect.signature`, once per callable: pulumi-policy reads `pulumi.runtime.Settings`'s
    signature on every request, and a class's signature does not change."""
    known: dict[Any, inspect.Signature] = {}

    def signature(target: Any, *args: Any, **kwargs: Any) -> inspect.Signature:
        if args or kwargs or not isinstance(target, type):
            return stock(target, *args, **kwargs)
        found = known.get(target)
        if found is None:
            found = known[target] = stock(target)
        return found

    return signature


class _Runtime(ModuleStandIn):
    """Stands in for `pulumi.runtime` inside `pulumi_policy.policy`: `get_config_env` parses
    PULUMI_CONFIG again only when it changed (pulumi-policy parses it on every request)."""

    def __init__(self) -> None:
        super().__init__(pulumi.runtime)
        self._parsed: tuple[str, dict[str, Any]] | None = None

    def get_config_env(self) -> dict[str, Any]:
        raw = os.environ.get("PULUMI_CONFIG")
        if raw is None:
            return {}
        parsed = self._parsed
        if parsed is None or parsed[0] != raw:
            parsed = self._parsed = (raw, json.loads(raw))
        return dict(parsed[1])  # a fresh map per call, as upstream's


class _Pulumi(ModuleStandIn):
    """Stands in for the `pulumi` package inside `pulumi_policy.policy`, for its `runtime`."""

    def __init__(self) -> None:
        super().__init__(pulumi)
        self.runtime = _Runtime()


@contextmanager
def request_scope() -> Iterator[None]:
    """Caches live for one request on one thread: the engine sends requests concurrently."""
    _scope.caches = {}
    try:
        yield
    finally:
        _scope.caches = None


def _read_per_resource_once(name: str, stock: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A servicer's per-resource reading (`_get_resource_options`, `_get_provider_resource`), once
    per resource message per request: upstream reads it again for every policy (every stack policy
    times every resource), and policies only read what it returns."""

    def read_once(message: Any) -> Any:
        return once_per_request(name, message, stock)

    return read_once


_POLICIES = "_PolicyAnalyzerServicer__policies"
"""The servicer's policy list (set once, in its constructor); a per-request view narrows it."""

_TYPE_FILTERS: weakref.WeakKeyDictionary[Any, Callable[[str], bool]] = weakref.WeakKeyDictionary()
"""Policy -> the resource types it reads (`declare_types`); weak, so policies are freed as usual."""


def declare_types(policy: Any, looks_at: Callable[[str], bool]) -> None:
    """Declares that `policy` reads only resources whose type token `looks_at` accepts and does
    nothing at all (no report, no error) for the others, so the layer runs it on those only."""
    _TYPE_FILTERS[policy] = looks_at


class _StackRequest:
    """An AnalyzeStackRequest narrowed to some of its resources (the same message objects)."""

    def __init__(self, request: Any, resources: list[Any]) -> None:
        self._request = request
        self.resources = resources

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)


class _ScopedServicer:
    """The analyzer servicer with each Analyze / AnalyzeStack call in its own `request_scope`, and
    each policy run only on the resource types it declared (`declare_types`): upstream builds the
    arguments of every policy for every resource before the policy can say it does not apply."""

    def __init__(self, servicer: Any) -> None:
        self._servicer = servicer
        for name in _READ_ONCE:  # instance attributes: only this servicer reads through the caches
            setattr(servicer, name, _read_per_resource_once(name, getattr(servicer, name)))
        self._by_type: dict[str, list[Any]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._servicer, name)

    def _with_policies(self, policies: list[Any]) -> Any:
        """A shallow copy of the servicer (same configuration) that serves only `policies`."""
        view = object.__new__(type(self._servicer))  # what copy.copy does, without its protocol
        view.__dict__.update(self._servicer.__dict__)
        view.__dict__[_POLICIES] = policies
        return view

    def _policies_for(self, resource_type: str) -> list[Any]:
        found = self._by_type.get(resource_type)
        if found is None:
            found = self._by_type[resource_type] = [
                policy
                for policy in getattr(self._servicer, _POLICIES)
                if policy not in _TYPE_FILTERS or _TYPE_FILTERS[policy](resource_type)
            ]
        return found

    def _stack_groups(self) -> list[tuple[list[Any], Callable[[str], bool] | None]]:
        """The stack policies in order: each declared one alone with its filter, runs of the others
        together over every resource."""
        groups: list[tuple[list[Any], Callable[[str], bool] | None]] = []
        for policy in getattr(self._servicer, _POLICIES):
            if not isinstance(policy, StackValidationPolicy):
                continue
            looks_at = _TYPE_FILTERS.get(policy)
            if looks_at is None and groups and groups[-1][1] is None:
                groups[-1][0].append(policy)
            else:
                groups.append(([policy], looks_at))
        return groups or [([], None)]  # no stack policy: upstream's runtime set-up still runs

    def Remediate(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC method name
        """The engine asks before every Analyze; upstream decodes the resource before it looks for
        a policy at the remediate level. With none there (hastack's rules remediate nothing) the
        answer is empty whatever the resource holds."""
        servicer = self._servicer
        if any(
            isinstance(policy, ResourceValidationPolicy)
            and servicer._get_enforcement_level(policy) == EnforcementLevel.REMEDIATE
            for policy in getattr(servicer, _POLICIES)
        ):
            return servicer.Remediate(request, context)
        servicer._configure_runtime_settings()
        return analyzer_pb2.RemediateResponse()

    def Analyze(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC method name
        with request_scope():
            return self._with_policies(self._policies_for(request.type)).Analyze(request, context)

    def AnalyzeStack(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC method name
        with request_scope():
            resources = list(request.resources)  # one wrapper per resource for every group's cache
            typed = [(resource.type, resource) for resource in resources]
            response = analyzer_pb2.AnalyzeResponse()
            for policies, looks_at in self._stack_groups():
                narrowed = resources if looks_at is None else [r for t, r in typed if looks_at(t)]
                answer = self._with_policies(policies).AnalyzeStack(_StackRequest(request, narrowed), context)
                response.MergeFrom(answer)  # repeated fields append: diagnostics stay in policy order
            return response


class _Registration(ModuleStandIn):
    """Stands in for `analyzer_pb2_grpc` inside `pulumi_policy.policy`: registers the scoped servicer."""

    def __init__(self) -> None:
        super().__init__(analyzer_pb2_grpc)

    @staticmethod
    def add_AnalyzerServicer_to_server(servicer: Any, server: Any) -> None:  # noqa: N802 - upstream's name
        analyzer_pb2_grpc.add_AnalyzerServicer_to_server(_ScopedServicer(servicer), server)  # type: ignore[arg-type]


def install() -> bool:
    """Puts the layer in place before `PolicyPack(...)` is constructed; False when it stays stock."""
    upstream: Any = importlib.import_module("pulumi_policy.policy")  # the names it imported
    from pulumi_policy.version import VERSION

    if not switched_on(SWITCH):
        return False
    if isinstance(upstream.json_format, _JsonFormat):
        return True
    if VERSION != PINNED or not (
        upstream.json_format is json_format
        and upstream.analyzer_pb2_grpc is analyzer_pb2_grpc
        and callable(getattr(upstream, "deserialize_properties", None))
        and upstream.unknown_checking_proxy is proxy.unknown_checking_proxy
        and upstream.signature is inspect.signature
        and upstream.pulumi is pulumi
    ):
        print(
            f"hastack-ha: pulumi-policy {VERSION} (layer checked on {PINNED}): stock decoding",
            file=sys.stderr,
        )
        return False
    upstream.json_format = _JsonFormat()
    upstream.deserialize_properties = _decode_once(upstream.deserialize_properties)
    upstream.analyzer_pb2_grpc = _Registration()
    upstream.unknown_checking_proxy = _proxy_once(upstream.unknown_checking_proxy)
    upstream.signature = _signature_once(upstream.signature)
    upstream.pulumi = _Pulumi()
    return True


__all__ = [
    "PINNED",
    "SWITCH",
    "declare_types",
    "install",
    "once_per_request",
    "request_scope",
    "struct_to_dict",
]
