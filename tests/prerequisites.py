"""When a piece the tests need is a failure and when it is a skip.

A piece this machine can build (Go is on PATH, or the run is CI, which must have Go) that fails
to build is a test failure carrying the build's error. Only an absent prerequisite, no Go at all
outside CI, skips; the run's summary then says so in one line (see tests/conftest.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.common.toolchain import toolchain_env

PREREQUISITE_ABSENT = "prerequisite absent:"
"""Prefix of the skip reason of every test skipped for a missing prerequisite."""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def go_available() -> bool:
    return shutil.which("go") is not None


def require_go(what: str) -> None:
    """Skips (outside CI) or fails (in CI) when Go is absent: `what` cannot be built then."""
    if go_available():
        return
    reason = f"no `go` on PATH, so {what} cannot be built on this machine (install Go >= 1.26.6)"
    if in_ci():
        pytest.fail(f"CI must be able to build {what}: {reason}", pytrace=False)
    pytest.skip(f"{PREREQUISITE_ABSENT} {reason}")


def build_failed(what: str, returncode: int, output: str) -> NoReturn:
    """A build that could run and failed is a failure, never a skip."""
    tail = "\n".join(output.strip().splitlines()[-40:])
    pytest.fail(f"{what} failed (exit {returncode}) on a machine that can build it:\n{tail}", pytrace=False)


BUILD_TIMEOUT_SECONDS = 60 * 60


def run_build(what: str, script: Path) -> None:
    """Runs a build script of the repo (a no-op once built); its failure fails the test with its output."""
    done = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS, check=False
    )
    if done.returncode != 0:
        build_failed(f"{what} ({script.relative_to(REPO_ROOT)})", done.returncode, done.stderr)


def built_toolchain() -> dict[str, str]:
    """The toolchain's environment (`toolchain/env.sh`) after `toolchain/build.sh`, a no-op once built;
    no Go skips (outside CI), a failed build fails with its error."""
    require_go("the Pulumi toolchain")
    run_build("the Pulumi toolchain", REPO_ROOT / "toolchain" / "build.sh")
    return toolchain_env()
