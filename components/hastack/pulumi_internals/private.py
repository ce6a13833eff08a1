"""The one place hastack touches Pulumi internals: names outside the SDKs' documented API.

Everything else imports from here, so an SDK upgrade is checked in one file;
`tests/hastack/pulumi_internals/test_private.py` exercises each entry against the pinned SDKs.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from pulumi.runtime import mocks, rpc
from pulumi.runtime.config import CONFIG, get_config_env, get_config_secret_keys_env, set_all_config
from pulumi.runtime.config import is_config_secret as _runtime_is_secret
from pulumi.runtime.settings import configure
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

Mocks = mocks.Mocks
MockMonitor = mocks.MockMonitor
MockResourceArgs = mocks.MockResourceArgs
MockCallArgs = mocks.MockCallArgs
deserialize_properties = rpc.deserialize_properties
is_secret = rpc.is_rpc_secret
unwrap_secret = rpc.unwrap_rpc_secret
UNKNOWN = rpc.UNKNOWN
"""The string the SDK sends for a value not known yet (preview)."""
ensure_event_loop = _ensure_event_loop
"""Gives a mock monitor thread the event loop that decoding resource references needs."""


def mock_resource_args(request: Any, inputs: dict[str, Any]) -> Any:
    """The `MockResourceArgs` the SDK's own mock monitor builds for a RegisterResource request."""
    return mocks.MockResourceArgs(
        typ=request.type,
        name=request.name,
        inputs=inputs,
        provider=request.provider,
        resource_id=request.importId,
        custom=request.custom or False,
        transforms=mocks._resolve_callbacks(request.transforms),
    )


def serialize_properties_now(properties: dict[str, Any]) -> Any:
    """`properties` as the wire's Struct, from a monitor thread (as the SDK's mock monitor does it)."""
    return _sync_await(rpc.serialize_properties(properties, {}))


def engine_config() -> dict[str, str]:
    """The running program's config as the engine passed it (`ns:key` -> string), env and runtime merged."""
    return {**get_config_env(), **CONFIG.get()}


def is_config_secret(key: str) -> bool:
    """Whether the engine marked config `ns:key` secret (it holds a `secure:` value, at any depth)."""
    return _runtime_is_secret(key) or key in get_config_secret_keys_env()


def marked_secret(value: Any) -> dict[str, Any]:
    """`value` wrapped the way the engine marks a secret on the wire."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def run_under_mocks(
    program: Callable[[], Any],
    monitor: Any,
    *,
    project: str,
    stack: str,
    preview: bool,
    config: Mapping[str, str],
    secret_keys: list[str],
) -> None:
    """Runs `program` as the SDK's own test mocks would (`pulumi.runtime.set_mocks`), but with our
    monitor and the stack's config, and waits for every output like the language host does."""
    settings = mocks.MockSettings(
        monitor=monitor,
        monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
        engine=mocks.MockEngine(None),
        project=project,
        stack=stack,
        dry_run=preview,
        organization="organization",
        callbacks=None,
        # MockSettings leaves the SDK's set of pending outputs as it was: a failed output an earlier
        # run left there would fail this one. Each run waits for its own.
        outputs=set(),
    )
    configure(settings)
    set_all_config(dict(config), list(secret_keys))
    _sync_await(run_in_stack(program))


def policy_proxy_types() -> tuple[type[Any], type[Any]]:
    """pulumi-policy's unknown-checking wrappers of dicts and lists (imported lazily: the component
    package does not depend on pulumi-policy)."""
    from pulumi_policy.proxy import _DictProxy, _ListProxy

    return _DictProxy, _ListProxy


# The SDK modules whose private names `sdk_patches` rebinds (each checked there against the pin).
runtime_resource: Any = importlib.import_module("pulumi.runtime.resource")
runtime_stack: Any = importlib.import_module("pulumi.runtime.stack")
sdk_types: Any = importlib.import_module("pulumi._types")


class ModuleStandIn(ModuleType):
    """A module that overrides a few names of `upstream` and hands every other name to it: bound in
    place of a module an SDK module imported, it changes what that one module sees and nothing else."""

    def __init__(self, upstream: ModuleType) -> None:
        super().__init__(upstream.__name__.rsplit(".", 1)[-1])
        self._upstream = upstream

    def __getattr__(self, name: str) -> Any:
        return getattr(self._upstream, name)


def runtime_module() -> Any:
    """`pulumi.runtime`, whose `invoke` and `invoke_output` generated SDKs look up at call time."""
    return importlib.import_module("pulumi.runtime")


def output_type() -> type[Any]:
    """`pulumi.Output` (its `apply` is what the offline run traces)."""
    from pulumi.output import Output

    return Output


def output_resources(output: Any) -> set[Any]:
    """The resources an output came from, once its value is in (inside an apply callback); else none."""
    data = getattr(output, "_data", None)
    if data is None or not data.done() or data.cancelled() or data.exception() is not None:
        return set()
    return set(data.result().resources)


def unknown_output() -> Any:
    """An Output whose value is unknown, as a preview gives for an invoke whose answer is pending."""
    value: asyncio.Future[Any] = asyncio.Future()
    value.set_result(None)
    known: asyncio.Future[bool] = asyncio.Future()
    known.set_result(False)
    return output_type()(set(), value, known)
