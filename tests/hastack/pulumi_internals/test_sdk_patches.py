"""The SDK patches behave as the SDK does: same stack traces, same waits, same mock runs, same errors."""

from __future__ import annotations

import asyncio
import importlib.metadata
import runpy
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime.proto import source_pb2

from benchmarks.hastack_render import generated_config
from hastack.pulumi_internals import private, sdk_patches
from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.dev.mockrun import MockRun, run_function

STOCK = sdk_patches._STOCK_STACK_TRACE
Capture = Callable[[], source_pb2.StackTrace]


@pytest.fixture
def stock_sdk(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The SDK as shipped for the test (mock runs would install the patches), put back afterwards."""
    was_installed = sdk_patches.installed()
    monkeypatch.setenv(sdk_patches.SWITCH, "0")
    sdk_patches.uninstall()
    yield
    if was_installed:
        monkeypatch.setenv(sdk_patches.SWITCH, "1")
        assert sdk_patches.install()


class _Base:
    def __init__(self, capture: Capture, out: list[source_pb2.StackTrace]) -> None:
        out.append(capture())


class _Middle(_Base):
    def __init__(self, capture: Capture, out: list[source_pb2.StackTrace]) -> None:
        super().__init__(capture, out)


class _Concrete(_Middle):
    def __init__(self, capture: Capture, out: list[source_pb2.StackTrace]) -> None:
        super().__init__(capture, out)


def _user_code(depth: int, make: Callable[[], object]) -> None:
    if depth:
        _user_code(depth - 1, make)
    else:
        make()


def _both(build: Callable[[Capture, list[source_pb2.StackTrace]], None]) -> Any:
    out: list[source_pb2.StackTrace] = []
    for capture in (STOCK, sdk_patches.stack_trace):
        build(capture, out)  # one call site, so the same line numbers
    return out


def test_stack_trace_is_the_sdks() -> None:
    """Resource -> Custom/Component -> concrete class: the frames of the code that built it."""

    def build(capture: Capture, out: list[source_pb2.StackTrace]) -> None:
        _user_code(3, lambda: _Concrete(capture, out))

    stock, ours = _both(build)
    assert ours == stock
    assert len(stock.frames) > 4
    assert stock.frames[0].pc.uri == Path(__file__).as_uri()  # innermost first: the user code's frame
    assert stock.frames[0].pc.line > 0


def test_stack_trace_from_exec_code_has_frames_without_position() -> None:
    """Frames whose file name is no path (`<string>`) carry no position in either."""
    scope: dict[str, Any] = {"_Concrete": _Concrete}
    code = compile("def make(capture, out):\n    _Concrete(capture, out)\n", "<string>", "exec")
    exec(code, scope)
    stock, ours = _both(scope["make"])
    assert ours == stock
    assert not stock.frames[0].HasField("pc")


def test_stack_trace_with_too_few_inits_is_empty() -> None:
    def build(capture: Capture, out: list[source_pb2.StackTrace]) -> None:
        _Middle(capture, out)

    stock, ours = _both(build)
    assert ours == stock == source_pb2.StackTrace()


def test_wait_stand_in_returns_once_all_are_done_or_one_failed() -> None:
    wait = sdk_patches._Asyncio().wait

    async def scenario() -> tuple[int, int, int, bool]:
        quick = [asyncio.ensure_future(asyncio.sleep(0.001 * i)) for i in range(20)]
        done, pending = await wait(quick, return_when=asyncio.FIRST_COMPLETED)

        async def fail() -> None:
            raise ValueError("boom")

        slow = asyncio.ensure_future(asyncio.sleep(10))
        failing = asyncio.ensure_future(fail())
        done_f, pending_f = await wait([slow, failing], return_when=asyncio.FIRST_COMPLETED)
        slow.cancel()
        return len(done), len(pending), len(pending_f), failing in done_f

    assert asyncio.run(scenario()) == (20, 0, 1, True)
    assert sdk_patches._Asyncio().sleep is asyncio.sleep  # every other name is asyncio's


def _mock_run() -> MockRun:
    program = str(REPO_ROOT / "__main__.py")
    return run_function(
        lambda: runpy.run_path(program, run_name="__main__"),
        project="hastack",
        stack="bench",
        config=generated_config(2),
    )


def test_mock_run_records_the_same_with_and_without(stock_sdk: None, monkeypatch: pytest.MonkeyPatch) -> None:
    stock = _mock_run()
    assert not sdk_patches.installed()
    monkeypatch.setenv(sdk_patches.SWITCH, "1")
    patched = _mock_run()
    assert sdk_patches.installed()
    assert private.runtime_stack.asyncio is not asyncio
    by_urn = {r.urn: r for r in stock.resources}  # registration order varies with the executor threads
    assert {r.urn: r for r in patched.resources} == by_urn
    assert patched.outputs == stock.outputs
    assert len(by_urn) == 25


def test_remembered_type_answers_are_the_sdks(stock_sdk: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every type the SDK asks about in a mock run gets the SDK's own answer from the stand-ins,
    asked of the SDK once per distinct type."""
    asked: dict[str, list[Any]] = {name: [] for name in sdk_patches.MEMOIZED}
    with monkeypatch.context() as recorded:
        for name in sdk_patches.MEMOIZED:

            def recording(tp: Any, stock: Any = sdk_patches._STOCK_TYPES[name], name: str = name) -> Any:
                asked[name].append(tp)
                return stock(tp)

            recorded.setattr(private.sdk_types, name, recording)
        _mock_run()
    for name, types in asked.items():
        stock = sdk_patches._STOCK_TYPES[name]
        calls: list[Any] = []

        def counting(tp: Any, stock: Any = stock, calls: list[Any] = calls) -> Any:
            calls.append(tp)
            return stock(tp)

        remembered = sdk_patches.remembering(counting)
        assert [remembered(tp) for tp in types] == [stock(tp) for tp in types]
        assert len(calls) == len(set(types)) < len(types) / 3  # the same few types, asked again and again


def test_unhashable_types_are_asked_every_time() -> None:
    calls: list[Any] = []

    def length(tp: Any) -> int:
        calls.append(tp)
        return len(tp)

    remembered = sdk_patches.remembering(length)
    assert remembered([1, 2]) == remembered([1, 2]) == 2
    assert remembered((1,)) == remembered((1,)) == 1
    assert calls == [[1, 2], [1, 2], (1,)]


def _failing_program() -> None:
    pulumi.export("broken", pulumi.Output.from_input(1).apply(lambda _: 1 / 0))


def test_errors_surface_the_same(stock_sdk: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ZeroDivisionError):
        run_function(_failing_program)
    monkeypatch.setenv(sdk_patches.SWITCH, "1")
    with pytest.raises(ZeroDivisionError):
        run_function(_failing_program)
    assert sdk_patches.installed()


def test_other_sdk_version_stays_stock(stock_sdk: None, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setenv(sdk_patches.SWITCH, "1")
    with monkeypatch.context() as upgraded:
        upgraded.setattr(importlib.metadata, "version", lambda _: "3.999.0")
        assert not sdk_patches.install()
    assert private.runtime_resource._get_stack_trace is STOCK
    assert private.runtime_stack.asyncio is asyncio
    assert all(
        getattr(private.sdk_types, name) is sdk_patches._STOCK_TYPES[name] for name in sdk_patches.MEMOIZED
    )
    assert "pulumi 3.999.0" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "off", "False"])
def test_switched_off(stock_sdk: None, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(sdk_patches.SWITCH, value)
    assert not sdk_patches.install()
    assert not sdk_patches.installed()


def test_pinned_is_the_installed_sdk() -> None:
    """Fails on an SDK upgrade: re-check each stand-in against the new SDK, then move the pin."""
    assert importlib.metadata.version("pulumi") == sdk_patches.PINNED


def test_importing_changes_nothing() -> None:
    probe = (
        "import asyncio; from pulumi.runtime import resource, stack; before = resource._get_stack_trace; "
        "import pulumi._types as t; unwrap = t.unwrap_type; "
        "import hastack.pulumi_internals.sdk_patches; "
        "assert resource._get_stack_trace is before and stack.asyncio is asyncio and t.unwrap_type is unwrap"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)
