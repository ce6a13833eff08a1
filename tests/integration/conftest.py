"""The real engine: built by `toolchain/build.sh` when missing (cached outside the repo).

A failed build fails every test here with the build's own error; only a machine without Go
skips them, and says so (tests/prerequisites.py).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hastack_tools.common.checkout import REPO_ROOT
from tests.e2e.kube import CLUSTER_DIR, Cluster, cluster_vars
from tests.prerequisites import built_toolchain, require_go, run_build


@pytest.fixture(scope="session")
def engine_env() -> dict[str, str]:
    """The toolchain's environment, after building it if needed."""
    return built_toolchain()


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
    run_build("the local control plane", CLUSTER_DIR / "up.sh")
    return cluster


AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def pulumi_cli(env: dict[str, str], *args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["pulumi", *args], env=env, cwd=cwd, capture_output=True, text=True, check=False)
