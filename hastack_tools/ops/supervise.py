"""Runs the Pulumi CLI so that an interrupt or a crash never leaves processes or guesses behind.

- The CLI runs in a session of its own, so the plugins it starts (language host, providers, the
  policy pack) share that session id; when the CLI ends, however it ends, whatever is left of the
  session is stopped (a killed CLI used to leave its plugins running for half an hour).
- Ctrl-C (SIGINT) or SIGTERM to us is forwarded to the CLI once, and we wait for its own graceful
  cancel (it finishes the steps in flight and writes a consistent checkpoint); a second one is
  forwarded too, which makes the CLI stop at once. Python's default (`KeyboardInterrupt`, then
  SIGKILL 0.25 s later) is exactly the crash this avoids.
- While it runs, a record (`RunRecord`) says which session is ours, under a lock held by this
  process only: a record found without its lock held means the previous run died (SIGKILL, OOM,
  power), and `leftovers` finds its processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Any

STOP_GRACE_S = 5.0
"""How long the leftovers of a session get after SIGTERM before SIGKILL."""


def session_members(sid: int) -> list[int]:
    """Pids of the live processes whose session id is `sid` (from /proc; zombies excluded)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp session ...: comm may hold spaces and parentheses
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[3]) == sid:
            members.append(int(entry.name))
    return members


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return "?"


def stop_session(sid: int, grace_s: float = STOP_GRACE_S) -> list[str]:
    """Stops every process left in session `sid` (SIGTERM, then SIGKILL); returns what it stopped."""
    members = [pid for pid in session_members(sid) if pid != os.getpid()]
    stopped = [f"{pid} {command_line(pid)[:120]}" for pid in members]
    for pid in members:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(p in session_members(sid) for p in members):
        time.sleep(0.1)
    for pid in session_members(sid):
        if pid in members:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    return stopped


@dataclass(frozen=True)
class RunRecord:
    """`<folder>/run.json` (which CLI session is ours) and `<folder>/run.lock` (held while it runs)."""

    folder: Path

    @property
    def file(self) -> Path:
        return self.folder / "run.json"

    @property
    def lock_file(self) -> Path:
        return self.folder / "run.lock"

    def read(self) -> dict[str, Any] | None:
        try:
            loaded = json.loads(self.file.read_text())
        except (OSError, ValueError):
            return None
        return loaded if isinstance(loaded, dict) else None

    @contextlib.contextmanager
    def held(self, what: str, wait_s: float = 0.0) -> Iterator[None]:
        """Holds the lock for one engine command; refuses when another process of ours holds it
        longer than `wait_s`."""
        self.folder.mkdir(parents=True, exist_ok=True)
        # O_CLOEXEC (Python's default): the CLI and its plugins never inherit the lock
        with open(self.lock_file, "a+") as handle:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() < deadline:
                        time.sleep(0.2)
                        continue
                    running = self.read() or {}
                    raise RunningError(
                        f"{what}: another engine command runs on this stack now "
                        f"(`pulumi {running.get('command', '?')}`, pid {running.get('pid', '?')}, "
                        f"started {running.get('started', '?')}); wait for it, or stop it with `make cancel`"
                    ) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def write(self, pid: int, command: str) -> None:
        record = {
            "pid": pid,
            "sid": pid,
            "command": command,
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text(json.dumps(record))
        tmp.replace(self.file)

    def clear(self) -> None:
        self.file.unlink(missing_ok=True)


class RunningError(RuntimeError):
    """Another engine command of ours runs on the same stack."""


Watchdog = Callable[[], str | None]
"""Called every few seconds while the CLI runs: a reason to cancel it, or None."""


@dataclass
class Outcome:
    code: int
    interrupted: bool = False
    cancelled_because: str | None = None
    leftovers: tuple[str, ...] = ()


@dataclass
class _Canceller:
    """Asks the CLI to cancel (SIGINT: it saves its state first), and asks again, which stops it at
    once, on a second interrupt or when the first one is not done within `force_after_s`."""

    proc: subprocess.Popen[bytes] | None
    outcome: Outcome
    say: Callable[[str], None]
    force_after_s: float
    asked: int = 0
    first_at: float = 0.0

    def ask(self) -> None:
        self.asked += 1
        self.first_at = self.first_at or time.monotonic()
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGINT)

    def on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        self.outcome.interrupted = True
        if self.asked == 0:
            self.say(
                "hastack: interrupt received: pulumi finishes the steps in flight and saves its state "
                "(interrupt again to stop it at once)"
            )
        self.ask()

    def on_reason(self, reason: str) -> None:
        self.outcome.cancelled_because = reason
        self.say(f"hastack: {reason}: cancelling the update (pulumi saves its state first)")
        self.ask()

    def overdue(self) -> None:
        if self.asked == 1 and time.monotonic() - self.first_at > self.force_after_s:
            self.say(
                f"hastack: pulumi is still busy {self.force_after_s:.0f} s after the cancel: stopping it now"
            )
            self.ask()


def run_supervised(
    argv: Sequence[str],
    env: Mapping[str, str],
    cwd: Path,
    record: RunRecord,
    *,
    log: IO[bytes] | None = None,
    watchdog: Watchdog | None = None,
    watch_every_s: float = 2.0,
    force_after_s: float = 90.0,
    say: Callable[[str], None] = print,
) -> Outcome:
    """Runs `argv` (the CLI) to its end; see the module docstring. Hold `record.held` around it."""
    outcome = Outcome(code=0)
    canceller = _Canceller(None, outcome, say, force_after_s)
    previous: dict[signal.Signals, Any] = {}
    # Handled before the CLI starts: exec resets a handled signal to its default in the child, while
    # an ignored one (a command started in the background of a script) would stay ignored there, and
    # a CLI that cannot hear the forwarded interrupt can never cancel.
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, canceller.on_signal)
    proc = canceller.proc = subprocess.Popen(
        list(argv),
        env=dict(env),
        cwd=cwd,
        stdout=log,
        stderr=log,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    record.write(proc.pid, " ".join(argv[1:3]))
    try:
        next_watch = time.monotonic() + watch_every_s
        while proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.2)
            if watchdog is not None and outcome.cancelled_because is None and time.monotonic() >= next_watch:
                next_watch = time.monotonic() + watch_every_s
                reason = watchdog()
                if reason is not None:
                    canceller.on_reason(reason)
            canceller.overdue()
        outcome.code = proc.returncode
    finally:
        if proc.poll() is None:  # an exception of ours: never leave the CLI behind
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        outcome.leftovers = tuple(stop_session(proc.pid))
        record.clear()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return outcome
