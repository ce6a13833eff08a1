"""Bring your own Pulumi (issue 23, item 2): with an official-layout `pulumi` on PATH, `make preview
TOOLCHAIN=system` uses it and its plugins and builds nothing (it used to build the toolchain, 20-35 min,
whatever the target)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hastack_tools.common.checkout import REPO_ROOT

pytestmark = pytest.mark.integration


def official_layout(built: Path, folder: Path) -> Path:
    """The CLI, its language hosts and the plugins in one folder, as the official installer lays them
    out (~/.pulumi/bin): the toolchain's binaries copied, no cache beside them."""
    folder.mkdir(parents=True)
    for item in built.iterdir():
        if item.is_file() and not item.name.startswith("."):
            shutil.copy2(item, folder / item.name)
    return folder


def test_preview_with_the_system_pulumi_builds_nothing(engine_env: dict[str, str], tmp_path: Path) -> None:
    official = official_layout(Path(engine_env["HASTACK_TOOLCHAIN_BIN"]), tmp_path / "pulumi" / "bin")
    home, cache = tmp_path / "home", tmp_path / "cache"
    home.mkdir()
    # no Go on PATH and an empty cache: any attempt to build would fail
    env = {
        "PATH": f"{official}{os.pathsep}/usr/local/bin{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(home),
        "HASTACK_CACHE": str(cache),
        "PULUMI_CONFIG_PASSPHRASE": "hastack-local-only",
    }
    assert shutil.which("go", path=env["PATH"]) is None
    done = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-C",
            str(REPO_ROOT),
            "preview",
            "STACK=dev",
            "TOOLCHAIN=system",
            "TARGET=render",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert f"CLI {official / 'pulumi'} v3." in output and "(system)" in output, output
    assert "hastack-ha" in output, "the policy pack ran"
    assert "toolchain" not in [p.name for p in cache.iterdir()], "nothing was built into the cache"
    assert "[toolchain" not in output
