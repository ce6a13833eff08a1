"""The real engine: built by `toolchain/build.sh` when missing (cached outside the repo).

If it cannot be built on this machine, every test here is reported as not run with the build's
own error, never as passed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hastack_tools.engine import EngineError, toolchain_env
from tests.conftest import REPO

BUILD_TIMEOUT_SECONDS = 60 * 60


@pytest.fixture(scope="session")
def engine_env() -> dict[str, str]:
    """The toolchain's environment, after building it if needed."""
    build = subprocess.run(
        ["bash", str(REPO / "toolchain" / "build.sh")],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
        check=False,
    )
    if build.returncode != 0:
        pytest.skip(f"the Pulumi toolchain could not be built here: {build.stderr.strip().splitlines()[-3:]}")
    try:
        return toolchain_env()
    except EngineError as error:
        pytest.skip(str(error))


AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def pulumi_cli(env: dict[str, str], *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["pulumi", *args], env=env, cwd=cwd, capture_output=True, text=True, check=False)
