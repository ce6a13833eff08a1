"""Session fixture for the local control plane (cluster/up.sh, cluster/down.sh).

The control plane is started once per session and stopped at the end, unless it was already
running before the session (then it is left as found). Tests here are marked `e2e`
(`pytest -m "not e2e"` leaves them out).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.kube import CLUSTER_DIR, Cluster, cluster_vars, is_running
from tests.integration.conftest import engine_env
from tests.prerequisites import build_failed, require_go, run_build
from tests.tiers import mark_tier, report_figures

__all__ = ["FIGURES", "engine_env"]

UP_TIMEOUT_S = 3600  # a cold build of the binaries takes about half an hour on 2 cores


FIGURES: dict[str, Any] = {}
"""Figures the e2e tests measure (per stack); printed at the end of the run."""


def pytest_terminal_summary(terminalreporter: Any) -> None:
    report_figures(terminalreporter, "e2e", FIGURES)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_tier(items, Path(__file__).parent, pytest.mark.e2e)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    paths = cluster_vars()
    c = Cluster(Path(paths["bin"]), Path(paths["run"]))
    if is_running(c):
        FIGURES["cluster"] = {"started_by_session": False}
        run_build("the local control plane", CLUSTER_DIR / "up.sh")  # a no-op, or installs newer CRDs
        yield c  # someone else's: leave it running
        return
    if not (c.bin_dir / "kube-apiserver").is_file():
        require_go("the local control plane")
    # a stopped control plane with someone's objects is started on them and stopped again (kept);
    # one this session creates is removed at the end
    stop_args = [] if (c.run_dir / "ready").exists() else ["--reset"]
    start = time.monotonic()
    proc = subprocess.run(
        ["bash", str(CLUSTER_DIR / "up.sh")],
        check=False,
        capture_output=True,
        text=True,
        timeout=UP_TIMEOUT_S,
        env=os.environ,
    )
    if proc.returncode != 0:
        subprocess.run(["bash", str(CLUSTER_DIR / "down.sh"), *stop_args], check=False, capture_output=True)
        build_failed("the local control plane (cluster/up.sh)", proc.returncode, proc.stderr)
    FIGURES["cluster"] = {"started_by_session": True, "up_sh_s": round(time.monotonic() - start, 1)}
    try:
        yield c
    finally:
        subprocess.run(
            ["bash", str(CLUSTER_DIR / "down.sh"), *stop_args], check=False, capture_output=True, timeout=120
        )
