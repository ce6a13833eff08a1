"""The Pulumi toolchain `make toolchain` builds (toolchain/build.sh): its environment, for the engine
commands and for the offline tools that start its kubernetes provider."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hastack_tools.common.checkout import REPO_ROOT


class ToolchainError(RuntimeError):
    """The built toolchain is not there; the message says how to build it."""


def toolchain_env(repo: Path = REPO_ROOT) -> dict[str, str]:
    """The environment `source toolchain/env.sh` produces (PATH, PULUMI_HOME, offline settings)."""
    script = f"source {repo / 'toolchain' / 'env.sh'} >/dev/null && env -0"
    done = subprocess.run(["bash", "-c", script], capture_output=True, check=True)
    env = dict(item.split("=", 1) for item in done.stdout.decode().split("\0") if "=" in item)
    if env.get("HASTACK_TOOLCHAIN_OK") != "1":
        raise ToolchainError(
            "the Pulumi toolchain is not built: run `make toolchain` (bash toolchain/build.sh)"
        )
    return env
