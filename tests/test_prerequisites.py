"""A build failure is a failure; only an absent Go skips, and the summary names it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests import conftest, prerequisites


def _no_go(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no `go` on it


def test_absent_go_skips_outside_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _no_go(monkeypatch, tmp_path)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="prerequisite absent: no `go` on PATH"):
        prerequisites.require_go("the toolchain")


def test_absent_go_fails_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _no_go(monkeypatch, tmp_path)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must be able to build the toolchain"):
        prerequisites.require_go("the toolchain")


def test_go_present_neither_skips_nor_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_go = tmp_path / "go"
    fake_go.write_text("#!/bin/sh\n")
    fake_go.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    prerequisites.require_go("the toolchain")


def test_a_failed_build_fails_with_its_own_error() -> None:
    output = "\n".join(f"line {n}" for n in range(100)) + "\nERROR: module x not in the module cache"
    with pytest.raises(pytest.fail.Exception) as failure:
        prerequisites.build_failed("the toolchain", 1, output)
    message = str(failure.value)
    assert "exit 1" in message
    assert "ERROR: module x not in the module cache" in message
    assert "line 10\n" not in message  # only the tail


class _Reporter:
    def __init__(self, skipped: list[Any]) -> None:
        self.stats = {"skipped": skipped}
        self.lines: list[str] = []

    def write_line(self, line: str, **_: Any) -> None:
        self.lines.append(line)


def test_summary_names_the_absent_prerequisite_and_counts() -> None:
    reason = "Skipped: prerequisite absent: no `go` on PATH, so the toolchain cannot be built"
    skipped = [SimpleNamespace(longrepr=("f.py", 1, reason)) for _ in range(3)]
    skipped.append(SimpleNamespace(longrepr=("g.py", 2, "Skipped: something else")))
    reporter = _Reporter(skipped)
    conftest.pytest_terminal_summary(reporter)
    assert reporter.lines == [
        "NOT RUN: 3 tests skipped, prerequisite absent: no `go` on PATH, so the toolchain cannot be built"
    ]
