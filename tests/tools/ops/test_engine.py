"""The engine's settings for large stacks (the engine itself runs in tests/integration)."""

from __future__ import annotations

import pytest

from hastack_tools.ops import engine


@pytest.mark.parametrize("command", engine.COMMANDS)
def test_parallel_for_every_command(command: str) -> None:
    args, _ = engine.scale_settings(command, [], {})
    assert args == ["--parallel", str(engine.PARALLEL)]


@pytest.mark.parametrize("chosen", [["--parallel", "4"], ["--parallel=4"], ["-p", "4"], ["-p4"], ["-p=4"]])
def test_the_callers_parallel_wins(chosen: list[str]) -> None:
    args, _ = engine.scale_settings("up", ["--diff", *chosen], {})
    assert args == []


def test_only_preview_skips_the_snapshots_it_would_discard() -> None:
    chosen = {"GOMEMLIMIT": "1GiB"}
    assert engine.scale_settings("preview", [], chosen)[1] == {"PULUMI_SKIP_CHECKPOINTS": "true"}
    for command in ("up", "destroy", "refresh"):
        assert engine.scale_settings(command, [], chosen)[1] == {}, command
    assert engine.scale_settings("preview", [], {**chosen, "PULUMI_SKIP_CHECKPOINTS": "false"})[1] == {}


@pytest.mark.parametrize("command", engine.COMMANDS)
def test_a_go_memory_limit_unless_the_caller_set_one(command: str) -> None:
    assert engine.scale_settings(command, [], {})[1]["GOMEMLIMIT"] == engine.GO_MEMORY_LIMIT
    assert "GOMEMLIMIT" not in engine.scale_settings(command, [], {"GOMEMLIMIT": "1GiB"})[1]
