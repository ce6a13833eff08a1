"""A program's folder as the engine reads it (hastack_tools.common.project): which stack file a run
uses, and an error naming the file and the stacks there when the asked-for one is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.common.project import (
    NotAProgramError,
    StackFileMissingError,
    choose_stack,
    engine_config,
    existing_stacks,
)


def test_this_project_defaults_to_dev_and_another_to_ci(tmp_path: Path) -> None:
    assert choose_stack(REPO_ROOT, None).name == "dev"
    (tmp_path / "Pulumi.yaml").write_text("name: theirs\nruntime: python\n")
    chosen = choose_stack(tmp_path, None)
    assert (chosen.name, chosen.file) == ("ci", None)
    assert chosen.describe() == "stack ci (the default; no Pulumi.ci.yaml, project config only)"


def test_a_named_stack_must_have_its_file(tmp_path: Path) -> None:
    with pytest.raises(StackFileMissingError, match=r"stacks of .*: dev, prod, staging"):
        choose_stack(REPO_ROOT, "qa")
    with pytest.raises(NotAProgramError, match=r"no Pulumi\.yaml"):
        choose_stack(tmp_path, None)
    assert existing_stacks(REPO_ROOT) == ["dev", "prod", "staging"]


def test_the_engine_config_is_the_stack_files_keys_as_strings() -> None:
    config, secret_keys = engine_config(REPO_ROOT, "prod")
    assert config["hastack:environment"] == "prod"
    assert config["hastack:apps"].startswith("[{")
    assert secret_keys == []
