"""Opt-in garbage-collector tuning for Pulumi program runs (importing this module changes nothing).

A Pulumi Python program allocates a large, long-lived graph of Outputs, futures and tasks; with
CPython's default thresholds the cyclic collector runs full collections over that whole graph
over and over. Raising the first threshold keeps
young cycles collected while the full passes over the long-lived graph become rare, and
`gc.freeze()` takes the imported modules out of every later pass. At exit, CPython's shutdown runs
full collections over the whole heap again for memory the OS is about to take back: tuning freezes
the heap at exit too. `HASTACK_GC_TUNING=0` turns it all off; what it buys: benchmarks/README.md.
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from hastack.pulumi_internals.switches import switched_on

THRESHOLDS = (100_000, 50, 100)
"""Gen-0 every 100,000 net allocations (default 700); the older generations as CPython counts them."""

SWITCH = "HASTACK_GC_TUNING"
"""Environment variable: `0`, `false` or `off` leaves the collector at CPython's defaults."""


@dataclass(frozen=True)
class GcState:
    """What `tune_gc` replaced, so `restore_gc` can put it back."""

    thresholds: tuple[int, int, int]
    enabled: bool
    frozen: bool


def _freeze_at_exit() -> None:
    """Out of the shutdown collections; objects are still freed by reference counting, only cyclic
    garbage is left to the OS."""
    gc.freeze()


def tune_gc() -> GcState | None:
    """Raises the collector thresholds and freezes what exists now (and what exists at exit);
    None when switched off."""
    if not switched_on(SWITCH):
        return None
    atexit.unregister(_freeze_at_exit)  # once, however many runs
    atexit.register(_freeze_at_exit)
    frozen = gc.get_freeze_count() > 0
    previous = GcState(thresholds=gc.get_threshold(), enabled=gc.isenabled(), frozen=frozen)
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    gc.enable()
    return previous


def restore_gc(previous: GcState | None) -> None:
    """Undoes `tune_gc`: the previous thresholds, and the frozen objects back under collection."""
    if previous is None:
        return
    gc.set_threshold(*previous.thresholds)
    if not previous.frozen:
        gc.unfreeze()
    if not previous.enabled:
        gc.disable()


@contextmanager
def tuned_gc() -> Iterator[GcState | None]:
    """`tune_gc` for the duration of a block (a mock run inside a longer-lived process)."""
    previous = tune_gc()
    try:
        yield previous
    finally:
        restore_gc(previous)


__all__ = ["SWITCH", "THRESHOLDS", "GcState", "restore_gc", "tune_gc", "tuned_gc"]
