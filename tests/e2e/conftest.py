"""Session fixture for the local control plane (cluster/up.sh, cluster/down.sh).

The control plane is started once per session and stopped at the end, unless it was already
running before the session (then it is left as found). Tests here are marked `e2e`
(`pytest -m "not e2e"` leaves them out).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.kube import CLUSTER_DIR, Cluster, cluster_vars, is_running
from tests.integration.conftest import engine_env

__all__ = ["FIGURES", "engine_env"]

UP_TIMEOUT_S = 3600  # a cold build of the binaries takes about half an hour on 2 cores
NO_GO_EXIT = 3  # cluster/build.sh: no Go toolchain, so nothing can be built on this machine


FIGURES: dict[str, Any] = {}
"""Figures the e2e tests measure (per stack); printed at the end of the run."""


FIGURES_FILE = Path(__file__).resolve().parents[2] / "build" / "e2e" / "figures.json"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Shown after the run (and kept in build/e2e/figures.json) so the numbers need no `-s`."""
    if FIGURES:
        text = json.dumps(FIGURES, indent=1, sort_keys=True)
        terminalreporter.section("e2e figures")
        terminalreporter.write_line(text)
        FIGURES_FILE.parent.mkdir(parents=True, exist_ok=True)
        FIGURES_FILE.write_text(text + "\n")
        terminalreporter.write_line(f"(also in {FIGURES_FILE})")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    paths = cluster_vars()
    c = Cluster(Path(paths["bin"]), Path(paths["run"]))
    if is_running(c):
        FIGURES["cluster"] = {"started_by_session": False}
        yield c  # someone else's: leave it running
        return
    if shutil.which("go") is None and not (c.bin_dir / "kube-apiserver").is_file():
        pytest.skip(
            f"cannot build the local control plane: no Go toolchain on PATH and no binaries in {c.bin_dir}"
        )
    start = time.monotonic()
    proc = subprocess.run(
        ["bash", str(CLUSTER_DIR / "up.sh")],
        check=False,
        capture_output=True,
        text=True,
        timeout=UP_TIMEOUT_S,
        env=os.environ,
    )
    if proc.returncode == NO_GO_EXIT:
        pytest.skip(f"cannot build the local control plane on this machine: {proc.stderr.strip()[-500:]}")
    if proc.returncode != 0:
        subprocess.run(["bash", str(CLUSTER_DIR / "down.sh")], check=False, capture_output=True)
        pytest.fail(f"cluster/up.sh failed ({proc.returncode}):\n{proc.stderr[-4000:]}", pytrace=False)
    FIGURES["cluster"] = {"started_by_session": True, "up_sh_s": round(time.monotonic() - start, 1)}
    try:
        yield c
    finally:
        subprocess.run(["bash", str(CLUSTER_DIR / "down.sh")], check=False, capture_output=True, timeout=120)
