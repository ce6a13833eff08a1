"""Reproducer: the Python SDK captures a full source-reading stack trace for every registration.

`pulumi.runtime.resource._get_stack_trace` calls `traceback.extract_stack()` (reads each frame's
source line through linecache) and turns each frame's file name into a URI with pathlib, on every
resource registration. The program here registers N resources from a call depth typical of a
component library (~25 frames) under the SDK's own mocks; `changed` swaps in a capture that walks
the same frames without source lines and keeps one URI per file
(`hastack.pulumi_internals.sdk_patches.stack_trace`, which returns an equal StackTrace:
tests/hastack/pulumi_internals/test_sdk_patches.py).

`python benchmarks/upstream/stack_trace.py [N]` (default 2000): medians of 3 fresh processes each.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pulumi


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {}, []


class Thing(pulumi.CustomResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("repro:index:Thing", name, {"size": 1}, opts)


def _nested(depth: int, name: str) -> None:
    if depth:
        _nested(depth - 1, name)
    else:
        Thing(name)


def once(variant: str, count: int) -> dict[str, float]:
    if variant == "changed":
        from hastack.pulumi_internals.private import runtime_resource
        from hastack.pulumi_internals.sdk_patches import stack_trace

        runtime_resource._get_stack_trace = stack_trace
    pulumi.runtime.set_mocks(_Mocks(), preview=False)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]  # the SDK's own test runner: waits like the host
    def program() -> None:
        for i in range(count):
            _nested(20, f"thing{i}")

    started_cpu, started = time.process_time(), time.perf_counter()
    program()
    return {"cpu_s": time.process_time() - started_cpu, "wall_s": time.perf_counter() - started}


def main() -> None:
    if sys.argv[1:2] == ["--once"]:
        print(json.dumps(once(sys.argv[2], int(sys.argv[3]))))
        return
    from benchmarks.upstream._compare import compare

    compare(Path(__file__), [sys.argv[1] if len(sys.argv) > 1 else "2000"])


if __name__ == "__main__":
    main()
