"""Three behaviour-preserving patches of the Pulumi Python SDK's hot paths, on the pinned SDK only.

Each registration captures a stack trace (`pulumi.runtime.resource._get_stack_trace`) with
`traceback.extract_stack()`, which reads every frame's source line through linecache, then turns
each frame's file name into a URI with pathlib. The stand-in
walks the same frames without reading source and keeps one URI per file: the same StackTrace.

At the end of the program the SDK waits for its pending outputs (`pulumi.runtime.stack
.wait_for_rpcs`) with `asyncio.wait(pending, FIRST_COMPLETED)` once per completion, adding and
removing a done-callback on every pending task each pass (thousands of tasks, tens of passes). The
stand-in `asyncio` it sees returns when all are done or one failed (FIRST_EXCEPTION): the same
results, the same first error, a few passes. Proposed upstream: benchmarks/upstream/README.md.

Resolving a resource's outputs asks `pulumi._types.unwrap_type` and `_is_union_type` about the
same few hundred annotation types again for every property of every resource, each time through
`typing.get_origin`/`get_args`. Both are pure functions of the type
object; the stand-ins remember each answer (unhashable types: asked every time, as before).

`install()` is a no-op unless the installed pulumi is `PINNED` and every patched name is still the
SDK's own; `HASTACK_SDK_PATCHES=0` turns it off; `uninstall()` puts the SDK's own back. Importing this
module changes nothing. What each buys: benchmarks/README.md;
tests/hastack/pulumi_internals/test_sdk_patches.py compares each with the SDK's own behaviour.
"""

from __future__ import annotations

import asyncio
import pathlib
import sys
from collections.abc import Awaitable, Callable, Iterable
from importlib import metadata
from types import FrameType
from typing import Any

from pulumi.runtime.proto import source_pb2

from hastack.pulumi_internals.private import ModuleStandIn, runtime_resource, runtime_stack, sdk_types
from hastack.pulumi_internals.switches import switched_on

PINNED = "3.272.0"
"""The pulumi version whose `_get_stack_trace`, `wait_for_rpcs` and `_types` these were checked against."""

SWITCH = "HASTACK_SDK_PATCHES"
"""Environment variable: `0`, `false`, `off` or `no` leaves the SDK as it is."""

_STOCK_STACK_TRACE = runtime_resource._get_stack_trace
MEMOIZED = ("unwrap_type", "_is_union_type")
"""The pure type-introspection functions of `pulumi._types` whose answers are remembered."""
_STOCK_TYPES: dict[str, Callable[[Any], Any]] = {name: getattr(sdk_types, name) for name in MEMOIZED}
_uris: dict[str, str | None] = {}


def _uri(filename: str) -> str | None:
    """`pathlib.Path(filename).as_uri()` once per file; None where the SDK gives no position."""
    if filename not in _uris:
        try:
            _uris[filename] = pathlib.Path(filename).as_uri()
        except BaseException:
            _uris[filename] = None
    return _uris[filename]


def _frame(frame: FrameType) -> source_pb2.StackFrame:
    lineno = frame.f_lineno
    uri = _uri(frame.f_code.co_filename) if frame.f_code.co_filename and lineno is not None else None
    return source_pb2.StackFrame(pc=None if uri is None else source_pb2.SourcePosition(uri=uri, line=lineno))


def stack_trace() -> source_pb2.StackTrace:
    """What `_get_stack_trace` returns: the frames older than the third `__init__` up the stack
    (Resource, Custom/ComponentResource, the concrete class), innermost first."""
    frame: FrameType | None = sys._getframe()
    inits = 0
    while frame is not None:
        if frame.f_code.co_name == "__init__":
            inits += 1
            if inits == 3:
                break
        frame = frame.f_back
    older = [] if frame is None else _outward(frame.f_back)
    return source_pb2.StackTrace(frames=[_frame(f) for f in older]) if older else source_pb2.StackTrace()


def _outward(frame: FrameType | None) -> list[FrameType]:
    found = []
    while frame is not None:
        found.append(frame)
        frame = frame.f_back
    return found


def remembering(stock: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`stock(tp)` once per hashable type `tp`."""
    answers: dict[Any, Any] = {}

    def remembered(tp: Any) -> Any:
        try:
            return answers[tp]
        except KeyError:
            answer = answers[tp] = stock(tp)
            return answer
        except TypeError:  # unhashable: no memory
            return stock(tp)

    return remembered


class _Asyncio(ModuleStandIn):
    """Stands in for `asyncio` inside `pulumi.runtime.stack`: FIRST_COMPLETED waits become
    FIRST_EXCEPTION waits (every other name is asyncio's own)."""

    def __init__(self) -> None:
        super().__init__(asyncio)

    @staticmethod
    def wait(
        fs: Iterable[Awaitable[Any]],
        *,
        timeout: float | None = None,
        return_when: str = asyncio.ALL_COMPLETED,
    ) -> Any:
        if return_when == asyncio.FIRST_COMPLETED:
            return_when = asyncio.FIRST_EXCEPTION
        return asyncio.wait(fs, timeout=timeout, return_when=return_when)


def installed() -> bool:
    return runtime_resource._get_stack_trace is stack_trace


def install() -> bool:
    """Puts the stand-ins in place (idempotent); False, with a note on stderr, when they stay out."""
    if not switched_on(SWITCH):
        return False
    if installed():
        return True
    version = metadata.version("pulumi")
    if (
        version != PINNED
        or runtime_resource._get_stack_trace is not _STOCK_STACK_TRACE
        or (runtime_stack.asyncio is not asyncio)
        or any(getattr(sdk_types, name) is not stock for name, stock in _STOCK_TYPES.items())
    ):
        print(f"hastack: pulumi {version} (patches checked on {PINNED}): SDK left as it is", file=sys.stderr)
        return False
    runtime_resource._get_stack_trace = stack_trace
    runtime_stack.asyncio = _Asyncio()
    for name, stock in _STOCK_TYPES.items():
        setattr(sdk_types, name, remembering(stock))
    return True


def uninstall() -> None:
    """The SDK's own stack-trace capture, asyncio and type introspection back."""
    runtime_resource._get_stack_trace = _STOCK_STACK_TRACE
    runtime_stack.asyncio = asyncio
    for name, stock in _STOCK_TYPES.items():
        setattr(sdk_types, name, stock)


__all__ = ["MEMOIZED", "PINNED", "SWITCH", "install", "installed", "remembering", "stack_trace", "uninstall"]
