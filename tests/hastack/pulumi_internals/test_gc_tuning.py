"""GC tuning: opt-in, switchable off, and undone after a mock run."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

import pytest

from hastack.pulumi_internals import gc_tuning
from hastack_tools.dev.mockrun import run_function


def test_importing_changes_nothing() -> None:
    probe = (
        "import gc; before = (gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()); "
        "import hastack.pulumi_internals.gc_tuning; "
        "assert (gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()) == before, before"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)


def test_tune_then_restore(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(gc_tuning.SWITCH, raising=False)
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    previous = gc_tuning.tune_gc()
    try:
        assert previous is not None and previous.thresholds == before
        assert gc.get_threshold() == gc_tuning.THRESHOLDS
        assert gc.get_freeze_count() > 0  # what existed before the run is out of later passes
    finally:
        gc_tuning.restore_gc(previous)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("value", ["0", "off", "False"])
def test_switched_off_leaves_defaults(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(gc_tuning.SWITCH, value)
    before = gc.get_threshold()
    with gc_tuning.tuned_gc() as previous:
        assert previous is None
        assert gc.get_threshold() == before


def test_mock_run_is_tuned_and_leaves_the_process_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(gc_tuning.SWITCH, raising=False)
    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []
    run_function(lambda: seen.append(gc.get_threshold()))
    assert seen == [gc_tuning.THRESHOLDS]
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize(("value", "frozen_at_exit"), [("1", True), ("0", False)])
def test_heap_frozen_at_exit_when_tuned(value: str, frozen_at_exit: bool) -> None:
    """The shutdown collections skip what lives at exit, including what was made after tuning."""
    probe = (
        "import atexit, gc; from hastack.pulumi_internals import gc_tuning; "
        "atexit.register(lambda: print(gc.get_freeze_count())); "  # runs after tuning's own handler
        "gc_tuning.restore_gc(gc_tuning.tune_gc()); "
        "keep = [[i] for i in range(50_000)]"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, gc_tuning.SWITCH: value},
    )
    frozen = int(done.stdout.strip())
    assert (frozen > 50_000) is frozen_at_exit, frozen
