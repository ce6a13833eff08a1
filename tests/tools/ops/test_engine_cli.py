"""`make up|preview|refresh|down` refuse a stack that has no stack file before the engine starts."""

from __future__ import annotations

import pytest

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.common.project import existing_stacks
from hastack_tools.ops import engine


@pytest.mark.parametrize("command", ["up", "preview", "destroy"])
def test_a_named_stack_without_its_file_is_an_error_naming_the_file_and_the_stacks(
    command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_run(*args: object, **kwargs: object) -> int:
        raise AssertionError("the engine ran for a stack without a stack file")

    monkeypatch.setattr(engine, "run", must_not_run)
    assert engine.main([command, "--stack", "stagng", "--target", "render"]) == 2
    error = capsys.readouterr().err
    assert f"{REPO_ROOT / 'Pulumi.stagng.yaml'} does not exist" in error
    assert f"stacks of {REPO_ROOT}: {', '.join(existing_stacks(REPO_ROOT))}" in error


def test_no_stack_named_is_dev_for_this_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def record(command: str, program: object, stack: str, *rest: object, **options: object) -> int:
        seen.append(stack)
        return 0

    monkeypatch.setattr(engine, "run", record)
    assert engine.main(["preview", "--target", "render"]) == 0
    assert seen == ["dev"]
