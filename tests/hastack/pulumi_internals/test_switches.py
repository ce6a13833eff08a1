"""The one reading of opt-out switches shared by GC tuning, the SDK patches and the policy layer."""

from __future__ import annotations

import pytest

from hastack.pulumi_internals.switches import switched_on


@pytest.mark.parametrize("value", ["0", "false", "OFF", " no ", "False"])
def test_off_values_switch_off(value: str) -> None:
    assert not switched_on("HASTACK_X", {"HASTACK_X": value})


@pytest.mark.parametrize("value", ["1", "true", "on", "yes", ""])
def test_other_values_leave_it_on(value: str) -> None:
    assert switched_on("HASTACK_X", {"HASTACK_X": value})


def test_unset_is_on_and_reads_only_its_own_name() -> None:
    assert switched_on("HASTACK_X", {"HASTACK_Y": "0"})


def test_reads_the_process_environment_when_none_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HASTACK_X", "off")
    assert not switched_on("HASTACK_X")
    monkeypatch.setenv("HASTACK_X", "1")
    assert switched_on("HASTACK_X")
