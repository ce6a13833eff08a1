"""The real engine: built by `toolchain/build.sh` when missing (cached outside the repo).

A failed build fails every test here with the build's own error; only a machine without Go
skips them, and says so (tests/prerequisites.py).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hastack_tools.ops.engine import toolchain_env
from tests.conftest import REPO
from tests.e2e.kube import CLUSTER_DIR, Cluster, cluster_vars
from tests.prerequisites import build_failed, require_go

BUILD_TIMEOUT_SECONDS = 60 * 60


@pytest.fixture(scope="session")
def engine_env() -> dict[str, str]:
    """The toolchain's environment, after building it if needed."""
    require_go("the Pulumi toolchain")
    build = subprocess.run(
        ["bash", str(REPO / "toolchain" / "build.sh")],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
        check=False,
    )
    if build.returncode != 0:
        build_failed("the Pulumi toolchain (toolchain/build.sh)", build.returncode, build.stderr)
    return toolchain_env()


@pytest.fixture(scope="session")
def local_cluster() -> Cluster:
    """The local control plane (cluster/up.sh: built first if needed), left running for the next user.

    Tests deploy into namespaces of their own, so a stack someone brought up with `make up` is
    never touched; the control plane is shared, so it is never stopped here.
    """
    paths = cluster_vars()
    cluster = Cluster(Path(paths["bin"]), Path(paths["run"]))
    if not (cluster.bin_dir / "kube-apiserver").is_file():
        require_go("the local control plane")
    up = subprocess.run(
        ["bash", str(CLUSTER_DIR / "up.sh")],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
        check=False,
    )
    if up.returncode != 0:
        build_failed("the local control plane (cluster/up.sh)", up.returncode, up.stderr)
    return cluster


AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def pulumi_cli(env: dict[str, str], *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["pulumi", *args], env=env, cwd=cwd, capture_output=True, text=True, check=False)
