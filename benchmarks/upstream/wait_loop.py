"""Reproducer: the Python SDK's end-of-program wait is quadratic in pending outputs.

`pulumi.runtime.stack.wait_for_rpcs` (pulumi 3.272.0, stack.py:201-217) copies the set of pending
outputs, then `asyncio.wait(pending_outputs, return_when=asyncio.FIRST_COMPLETED)`, awaits what
finished and puts the rest back, until none is left. Every pass adds and removes a done-callback
on every pending task; with thousands of outputs finishing over tens of event-loop turns, that is
passes x pending callbacks. The program here leaves N outputs pending at the end, finishing over 40 event-loop
turns (a 100-app hastack run: ~12,000 pending, 38 passes). `changed` lets the same
loop see `FIRST_EXCEPTION` instead (`hastack.pulumi_internals.sdk_patches`' asyncio stand-in): it
returns when all are done or one failed, so the same first error surfaces and the loop makes a few passes.

`python -m benchmarks.upstream.wait_loop [N]` (default 12000): medians of 3 fresh processes each.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import pulumi

TURNS = 40
"""Event-loop turns over which the pending outputs finish (~38 passes in a 100-app hastack run)."""


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {}, []


async def _finishes_after(turns: int) -> int:
    for _ in range(turns):
        await asyncio.sleep(0)
    return turns


def once(variant: str, count: int) -> dict[str, float]:
    if variant == "changed":
        from hastack.pulumi_internals import sdk_patches
        from hastack.pulumi_internals.private import runtime_stack

        runtime_stack.asyncio = sdk_patches._Asyncio()
    pulumi.runtime.set_mocks(_Mocks(), preview=False)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]  # the SDK's own test runner: waits like the host
    def program() -> None:
        for i in range(count):
            pulumi.Output.from_input(asyncio.ensure_future(_finishes_after(i % TURNS)))  # type: ignore[arg-type]

    started_cpu, started = time.process_time(), time.perf_counter()
    program()
    return {"cpu_s": time.process_time() - started_cpu, "wall_s": time.perf_counter() - started}


def main() -> None:
    if sys.argv[1:2] == ["--once"]:
        print(json.dumps(once(sys.argv[2], int(sys.argv[3]))))
        return
    from benchmarks.upstream._compare import compare

    compare(Path(__file__), [sys.argv[1] if len(sys.argv) > 1 else "12000"])


if __name__ == "__main__":
    main()
