"""What the offline run answers where only a deploy or another provider would know, and how a program
that still fails on it is told why.

Under the mocks every resource's outputs are its inputs: a field the provider computes (a Service's
`status`, a cluster's `kube_configs`) is unknown in a preview run, as `pulumi preview` leaves it, and
empty (None) in an update run. Functions of providers other than kubernetes (`do.get_kubernetes_versions()`)
are not started offline: their output form (`get_..._output`) answers unknown in a preview, as
`pulumi preview` does while an answer is pending; their plain form answers an object whose every field
is None. A program that then fails (`'NoneType' object has no attribute 'load_balancer'`) gets a note
naming what it read and the line that read it, instead of a frame of the SDK.

`answering_offline()` puts the stand-ins in place for one run (`pulumi.Output.apply`, and
`pulumi.runtime.invoke` / `invoke_output` as generated SDKs look them up at call time) and takes them
away after; `explain(error)` is the note for a failure, if it is one of these.
"""

from __future__ import annotations

import sysconfig
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hastack.pulumi_internals import private

KUBERNETES_PACKAGE = "kubernetes"
"""The one provider the offline run starts (hastack_tools.dev.k8s_provider)."""

_READ_ATTRIBUTE = "__hastack_reads__"
_FRAMES_ATTRIBUTE = "__hastack_frames__"
_HERE = str(Path(__file__).resolve().parents[1])
_STDLIB = sysconfig.get_paths()["stdlib"]


def package_of(token: str) -> str:
    """`digitalocean` of `digitalocean:index/getKubernetesVersions:getKubernetesVersions`."""
    return token.split(":", 1)[0]


def _user_frame(frames: traceback.StackSummary) -> traceback.FrameSummary | None:
    """The innermost frame of the program itself: not the SDKs, the standard library or this tool."""
    for frame in reversed(frames):
        name = frame.filename
        if "site-packages" in name or name.startswith((_STDLIB, _HERE)) or name.startswith("<"):
            continue
        return frame
    return None


def where(frame: traceback.FrameSummary | None) -> str:
    """`__main__.py:12` (the file relative to the working directory, the program's folder)."""
    if frame is None:
        return "an unknown line"
    path = Path(frame.filename)
    shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
    return f"{shown}:{frame.lineno}"


@dataclass
class OfflineRecord:
    """The functions of other providers the program called in one run, with the line of each call."""

    plain_invokes: list[tuple[str, traceback.FrameSummary | None]] = field(default_factory=list)
    unknown_invokes: list[str] = field(default_factory=list)

    def notes(self) -> list[str]:
        """One line per function of another provider the run answered without it, for the report."""
        lines = [
            f"{tok}: answered unknown (provider {package_of(tok)} is not started offline), as a preview "
            "answers a function whose answer is pending"
            for tok in sorted(set(self.unknown_invokes))
        ]
        lines += [
            f"{tok} (called at {where(frame)}): answered with empty fields (provider {package_of(tok)} is "
            "not started offline; its output form answers unknown)"
            for tok, frame in self.plain_invokes
        ]
        return lines


def _resource_text(resource: Any) -> str:
    kind = str(getattr(resource, "_type", "?")).rsplit(":", 1)[-1]
    return f"{kind} {getattr(resource, '_name', '?')}"


def _read_output(output: Any) -> str:
    """What an applied output is: `status of Service nginx` when it is a resource's own output."""
    resources = private.output_resources(output)
    for resource in resources:
        for name, value in vars(resource).items():
            if value is output and not name.startswith("_"):
                return f"`{name}` of {_resource_text(resource)}"
    if resources:
        names = ", ".join(sorted(_resource_text(r) for r in resources))
        return f"an output of {names}"
    return "an output"


def _tracing_apply(stock: Callable[..., Any]) -> Callable[..., Any]:
    """`Output.apply` that notes, on an exception its callback raises, which output it was given and
    the frames down to the callback (the SDK re-raises the exception later without them)."""

    def apply(self: Any, func: Callable[[Any], Any], run_with_unknowns: bool = False) -> Any:
        def traced(value: Any) -> Any:
            try:
                return func(value)
            except Exception as error:
                if not hasattr(error, _READ_ATTRIBUTE):
                    setattr(error, _READ_ATTRIBUTE, _read_output(self))
                    setattr(error, _FRAMES_ATTRIBUTE, traceback.extract_tb(error.__traceback__))
                raise

        return stock(self, traced, run_with_unknowns)

    return apply


@contextmanager
def answering_offline(*, preview: bool) -> Iterator[OfflineRecord]:
    """The stand-ins for one run (see the module docstring); the SDK's own are back afterwards."""
    record = OfflineRecord()
    runtime = private.runtime_module()
    stock_invoke, stock_invoke_output = runtime.invoke, runtime.invoke_output
    stock_apply = private.output_type().apply

    def invoke(tok: str, props: Any, opts: Any = None, typ: Any = None, package_ref: Any = None) -> Any:
        if package_of(tok) != KUBERNETES_PACKAGE:
            record.plain_invokes.append((tok, _user_frame(traceback.extract_stack())))
        return stock_invoke(tok, props, opts, typ, package_ref)

    def invoke_output(
        tok: str, props: Any, opts: Any = None, typ: Any = None, package_ref: Any = None
    ) -> Any:
        if preview and package_of(tok) != KUBERNETES_PACKAGE:
            record.unknown_invokes.append(tok)
            return private.unknown_output()
        return stock_invoke_output(tok, props, opts, typ, package_ref)

    runtime.invoke, runtime.invoke_output = invoke, invoke_output
    private.output_type().apply = _tracing_apply(stock_apply)
    try:
        yield record
    finally:
        runtime.invoke, runtime.invoke_output = stock_invoke, stock_invoke_output
        private.output_type().apply = stock_apply


def failure_frames(error: BaseException) -> traceback.StackSummary | None:
    """The frames down to an apply callback that raised `error`, when the SDK dropped them."""
    frames: traceback.StackSummary | None = getattr(error, _FRAMES_ATTRIBUTE, None)
    return frames


def _about_none(error: BaseException) -> bool:
    return isinstance(error, AttributeError | TypeError | IndexError | KeyError) and "None" in str(error)


def explain(error: BaseException, record: OfflineRecord, *, preview: bool) -> str | None:
    """Why a failed program failed, when it read what only a deploy or another provider knows."""
    if not _about_none(error):
        return None
    read = getattr(error, _READ_ATTRIBUTE, None)
    if read is not None:
        mode = (
            "an update run answers it with nothing (None); the default preview run leaves it unknown"
            if not preview
            else "the offline run answers it with nothing (None), as a preview of a new resource does"
        )
        return (
            f"cause: that line reads {read}, which is only known after deploy (a field the provider "
            f"computes, such as a Service's status or a cluster's kubeconfig): {mode}"
        )
    if record.plain_invokes:
        calls = "; ".join(f"{tok} (called at {where(frame)})" for tok, frame in record.plain_invokes)
        packages = sorted({package_of(tok) for tok, _ in record.plain_invokes})
        return (
            f"cause: the program read the answer of {calls}, a function of provider "
            f"{', '.join(packages)}, which the offline run does not start, so every field of its answer is "
            "empty (None); its output form (get_..._output) answers unknown, as a preview does"
        )
    return None


def note(error: BaseException, record: OfflineRecord, *, preview: bool) -> None:
    """Adds the explanation to the error's notes (Python's own `add_note`), if there is one."""
    text = explain(error, record, preview=preview)
    if text is not None and text not in getattr(error, "__notes__", []):
        error.add_note(text)


__all__ = ["OfflineRecord", "answering_offline", "explain", "failure_frames", "note", "package_of"]
