"""The real engine: built by `toolchain/build.sh` when missing (cached outside the repo).

If it cannot be built on this machine, every test here is reported as not run with the build's
own error, never as passed.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hastack_tools.engine import EngineError, toolchain_env
from tests.conftest import REPO
from tests.tools.test_state_backup import free_port

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


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a loopback port, for the S3 state backend and the backups."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def pulumi_cli(env: dict[str, str], *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["pulumi", *args], env=env, cwd=cwd, capture_output=True, text=True, check=False)
