"""Peak memory of this process and its children, read from /proc (high-water marks)."""

from __future__ import annotations

import os
from pathlib import Path


def high_water_mib(pid: int) -> float:
    """One process's peak RSS (VmHWM), in MiB."""
    return _high_water_kib(pid) / 1024


def _high_water_kib(pid: int | str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def _children(pid: int | str) -> list[str]:
    found: list[str] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend((task / "children").read_text().split())
        except OSError:
            continue
    return found


def peak_mib() -> float:
    """This process's peak RSS plus that of its live descendants (jsii runs a node child)."""
    total = 0
    pending: list[int | str] = [os.getpid()]
    while pending:
        pid = pending.pop()
        total += _high_water_kib(pid)
        pending.extend(_children(pid))
    return total / 1024
