"""The engine's settings for large stacks and its settling of a failed run (the engine itself runs in
tests/integration)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hastack_tools.ops import engine, kubeapi, recovery
from hastack_tools.ops.stacks import EngineError, StackWorkspace


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


class Target:
    """A cluster that answers or not (all `settle_failed_up` asks of it)."""

    def __init__(self, answers: bool) -> None:
        self.answers = answers

    def ready(self, timeout_s: float = 5.0) -> None:
        if not self.answers:
            raise kubeapi.UnreachableError("the API server https://127.0.0.1:1 does not answer (refused)")


@pytest.mark.parametrize(
    ("answers", "fails", "expected"),
    [
        (True, False, None),
        (True, True, "could not settle the failed run now (the backend is gone); the next command does it"),
        (False, False, "the cluster does not answer; `make up STACK=dev` settles the rest"),
    ],
)
def test_a_failed_up_is_settled_at_once_or_left_to_the_next_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answers: bool, fails: bool, expected: str | None
) -> None:
    """Its orphans are swept before the user reruns anything; a settle that cannot run now never hides
    the failed run's own exit code (it only says so)."""
    calls: list[object] = []

    def recover(workspace: StackWorkspace, env: object, *, say: object, api: object) -> None:
        calls.append(api)
        if fails:
            raise EngineError("the backend is gone")

    monkeypatch.setattr(recovery, "recover", recover)
    said: list[str] = []
    api = Target(answers)
    workspace = StackWorkspace("hastack", "dev", tmp_path, f"file://{tmp_path}")
    engine.settle_failed_up(workspace, {}, api, said.append)  # type: ignore[arg-type]
    assert calls == ([api] if answers else [])
    assert said == ([] if expected is None else [f"hastack: {expected}"])
