"""toolchain/progress.sh: the per-minute ticker of a build step holds neither the build lock (finding 6:
`make toolchain` twice in a row took 0.1 s, then 60 s, waiting for the ticker's `sleep`) nor, after a
step that exits the script, the caller's pipes."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hastack_tools.common.checkout import REPO_ROOT

PROGRESS = REPO_ROOT / "toolchain" / "progress.sh"


def script(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "build.sh"
    path.write_text(
        "set -euo pipefail\n"
        f'exec 9>"{tmp_path}/lock"; flock 9\n'
        f'source "{PROGRESS}"\n'
        f'progress_init test 1 "{tmp_path}/log"\n' + body
    )
    return ["bash", str(path)]


def test_the_lock_is_free_as_soon_as_the_build_ends(tmp_path: Path) -> None:
    # a 30 s tick: the ticker's sleep is still running when the 2 s step ends
    done = subprocess.run(
        script(tmp_path, "progress_step wait sleep 2\n"),
        env={"PATH": "/usr/bin:/bin", "PROGRESS_TICK": "30"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    free = subprocess.run(["flock", "-n", str(tmp_path / "lock"), "true"], check=False, timeout=10)
    assert free.returncode == 0, "a leftover sleep still holds the build lock"


def test_a_step_that_exits_the_script_leaves_no_ticker_on_the_callers_pipe(tmp_path: Path) -> None:
    body = "fails() { echo 'gone' >&2; exit 4; }\nprogress_step fails fails\n"
    done = subprocess.run(
        script(tmp_path, body),
        env={"PATH": "/usr/bin:/bin", "PROGRESS_TICK": "1"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )  # a ticker left running would hold stderr open: this would time out
    assert done.returncode == 4
