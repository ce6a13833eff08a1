"""The repository's own settings hold: pre-commit runs the checks `make lint typecheck` runs, with the
venv's pinned tools and nothing downloaded, and the editor settings agree with the formatter."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path

import yaml

from hastack_tools.common.checkout import REPO_ROOT


def test_pre_commit_runs_the_venvs_own_checks_offline() -> None:
    config = yaml.safe_load((REPO_ROOT / ".pre-commit-config.yaml").read_text())
    (repo,) = config["repos"]
    assert repo["repo"] == "local", "a remote hook repository would be downloaded"
    hooks = {hook["id"]: hook for hook in repo["hooks"]}
    assert all(hook["language"] == "system" for hook in hooks.values())
    assert hooks["ruff-check"]["entry"] == ".venv/bin/ruff check"
    assert hooks["ruff-format"]["entry"] == ".venv/bin/ruff format --check"
    assert hooks["mypy"]["entry"] == ".venv/bin/mypy"
    assert "hastack_tools.dev.docs --check" in hooks["generated-docs"]["entry"]
    pinned = (REPO_ROOT / "requirements-dev.txt").read_text()
    assert "pre-commit==" in pinned


def test_pre_commit_validates_and_runs_a_hook(tmp_path: Path) -> None:
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "home")}
    bin_dir = Path(sys.executable).parent
    for args in (["validate-config", ".pre-commit-config.yaml"], ["run", "ruff-format", "--all-files"]):
        done = subprocess.run(
            [str(bin_dir / "pre-commit"), *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_editor_settings_are_the_formatters() -> None:
    parser = configparser.ConfigParser()
    parser.read_string(
        (REPO_ROOT / ".editorconfig").read_text().replace("root = true", "[root]\nroot = true")
    )
    line_length = "line-length = 110"
    assert line_length in (REPO_ROOT / "pyproject.toml").read_text()
    assert parser["*.py"]["max_line_length"] == "110"
    assert parser["*"]["end_of_line"] == "lf"
    assert parser["{Makefile,*.mk}"]["indent_style"] == "tab"
