"""toolchain/build.sh treats the YAML language host as a required piece: when it cannot be built,
the build fails (and so does every integration test, through tests/integration/conftest.py).

No Go build runs here: a copy of the cache has every other piece already built, and a stand-in
`go` answers `go env` like the real one and fails everything else, as a broken build would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.common.toolchain import toolchain_env
from tests.prerequisites import require_go

FAILING_GO = """#!/usr/bin/env bash
if [[ "${1:-}" == env ]]; then exec "$REAL_GO" "$@"; fi
echo "go $*: simulated build failure" >&2
exit 1
"""


def test_a_yaml_host_that_cannot_be_built_fails_the_toolchain(tmp_path: Path) -> None:
    require_go("the toolchain")
    env = toolchain_env()
    built = Path(env["HASTACK_TOOLCHAIN_BIN"])
    if not (built / "pulumi-language-yaml").is_file():
        pytest.fail(f"{built} has no pulumi-language-yaml: run `bash toolchain/build.sh` first")
    cache = tmp_path / "cache"
    bin_dir = cache / "toolchain" / built.parent.name / "bin"
    bin_dir.mkdir(parents=True)
    for item in built.iterdir():
        if "pulumi-language-yaml" in item.name:
            continue
        (bin_dir / item.name).symlink_to(item)  # reused as built: build.sh only tests -x
    for note in built.parent.glob("optional-*.txt"):
        shutil.copy2(note, bin_dir.parent / note.name)
    fake = tmp_path / "fake-go"
    fake.mkdir()
    (fake / "go").write_text(FAILING_GO)
    (fake / "go").chmod(0o755)
    run_env = {
        **os.environ,
        "HASTACK_CACHE": str(cache),
        "REAL_GO": shutil.which("go") or "go",
        "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}",
    }
    done = subprocess.run(
        ["bash", str(REPO_ROOT / "toolchain" / "build.sh")],
        env=run_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode != 0, done.stderr
    assert "step 5/5: pulumi-language-yaml: FAILED" in done.stderr
    assert "simulated build failure" in done.stderr, "the go errors are shown"
    assert "toolchain ready" not in done.stderr
    assert not (bin_dir / "pulumi-language-yaml").exists()
