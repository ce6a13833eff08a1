"""A project outside this repo that uses hastack as another team would, made by running the "Use hastack
in your own project" blocks of docs/using-hastack.md as written (HASTACK: this clone, PROJECT: a
temporary folder).

The session fixture `consumer_project` builds it once (a fresh venv, `pip install` of this clone: the
package registry is the only network it needs); the docs tests, the example's mock tests and the
integration tier all use that one project.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hastack_tools.common.checkout import REPO_ROOT

SECTION = "## Use hastack in your own project"
MOCK_RUNNER = REPO_ROOT / "tests" / "examples" / "run_under_mocks.py"
INSTALL_TIMEOUT_S = 900


GUIDE = REPO_ROOT / "docs" / "using-hastack.md"


def guide_blocks(language: str) -> list[str]:
    """The fenced `language` blocks of the guide's section, in order."""
    readme = GUIDE.read_text()
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.DOTALL)


@dataclass(frozen=True)
class ConsumerProject:
    """The project folder (its own `.venv` inside) and the variables the guide's blocks use."""

    folder: Path

    @property
    def venv(self) -> Path:
        return self.folder / ".venv"

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        return {
            **(base if base is not None else os.environ),
            "HASTACK": str(REPO_ROOT),
            "PROJECT": str(self.folder),
        }

    def run_block(
        self, block: str, base: Mapping[str, str] | None = None, timeout: float = INSTALL_TIMEOUT_S
    ) -> subprocess.CompletedProcess[str]:
        """One block of the guide through bash, stopping at the first failing command."""
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block],
            env=self.env(base),
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def run_under_mocks(self, config: Mapping[str, str], stack: str = "dev") -> dict[str, Any]:
        """The project's program under Pulumi's mocks, in the project's venv: registrations or an error."""
        project = "hastack-python-example"
        env = {
            **os.environ,
            "PULUMI_CONFIG": json.dumps({f"{project}:{key}": value for key, value in config.items()}),
        }
        done = subprocess.run(
            [str(self.venv / "bin" / "python"), str(MOCK_RUNNER), str(self.folder), project, stack],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        try:
            result: dict[str, Any] = json.loads(done.stdout)
        except json.JSONDecodeError:
            pytest.fail(f"the mock runner printed no result (exit {done.returncode}):\n{done.stderr[-3000:]}")
        return result


def block_failed(what: str, done: subprocess.CompletedProcess[str]) -> str:
    tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-40:])
    return f"{what} failed (exit {done.returncode}):\n{tail}"


@pytest.fixture(scope="session")
def consumer_project(tmp_path_factory: pytest.TempPathFactory) -> ConsumerProject:
    """The guide's Python block as written: a venv outside the repo, hastack installed from this clone."""
    folder = tmp_path_factory.mktemp("consumer") / "shop"
    folder.mkdir()
    assert REPO_ROOT not in folder.parents, f"{folder} must be outside the repo"
    project = ConsumerProject(folder)
    done = project.run_block(guide_blocks("bash")[0])
    if done.returncode != 0:
        pytest.fail(block_failed(f"the guide's Python block (in {folder})", done), pytrace=False)
    return project
