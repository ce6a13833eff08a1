"""Peak memory and CPU time of this process and its children, read from /proc (jsii runs a node child)."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


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


def _descendants() -> Iterator[str]:
    """The live processes below this one (not this one)."""
    pending = _children(os.getpid())
    while pending:
        pid = pending.pop()
        yield pid
        pending.extend(_children(pid))


def _cpu_ticks(pid: str) -> int:
    """utime + stime of a live process, all its threads (fields 14 and 15 of /proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) so far of one live process, all its threads."""
    return _cpu_ticks(str(pid)) / _TICKS


def peak_mib() -> float:
    """This process's peak RSS plus that of its live descendants."""
    return (_high_water_kib(os.getpid()) + sum(_high_water_kib(pid) for pid in _descendants())) / 1024


def cpu_seconds() -> float:
    """CPU time (user + system) so far of this process, its live descendants and its reaped children."""
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    live = sum(_cpu_ticks(pid) for pid in _descendants()) / _TICKS
    return time.process_time() + live + reaped.ru_utime + reaped.ru_stime
