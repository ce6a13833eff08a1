"""The CLI supervisor with stand-in CLIs (shell scripts): one forwarded interrupt and a wait for the
CLI's own cancel, leftovers of the session stopped, the run record and its lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hastack_tools.ops import supervise
from hastack_tools.ops.supervise import RunningError, RunRecord, run_supervised

# A CLI that starts a "plugin" (a long sleep in its session), then on SIGINT writes a checkpoint
# after a while and exits 255, as pulumi does after a graceful cancel.
GRACEFUL_CLI = """#!/usr/bin/env bash
sleep 300 &
echo "$!" > "$1/plugin.pid"
trap 'sleep 1; echo saved > "$1/checkpoint"; exit 255' INT
echo started > "$1/started"
while true; do sleep 0.1; done
"""


def cli(tmp_path: Path, text: str) -> list[str]:
    script = tmp_path / "fake-pulumi"
    script.write_text(text)
    script.chmod(0o755)
    return [str(script), str(tmp_path)]


def wait_for(path: Path, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_an_interrupt_is_forwarded_once_and_the_cli_cancels_on_its_own(tmp_path: Path) -> None:
    """Python's default would raise KeyboardInterrupt and SIGKILL the CLI 0.25 s later: no checkpoint."""
    record = RunRecord(tmp_path / "ws")
    said: list[str] = []

    def interrupt_when_started() -> None:
        wait_for(tmp_path / "started")
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_when_started, daemon=True).start()
    with record.held("test"):
        outcome = run_supervised(cli(tmp_path, GRACEFUL_CLI), os.environ, tmp_path, record, say=said.append)
    assert outcome.interrupted
    assert outcome.code == 255
    assert (tmp_path / "checkpoint").read_text() == "saved\n", "the CLI got the time to save its state"
    assert any("interrupt received" in line for line in said)
    plugin = int((tmp_path / "plugin.pid").read_text())
    assert not alive(plugin), "the plugin the CLI left was stopped"
    assert any(str(plugin) in line for line in outcome.leftovers)
    assert record.read() is None
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_killed_cli_leaves_no_process_behind(tmp_path: Path) -> None:
    record = RunRecord(tmp_path / "ws")

    def kill_when_started() -> None:
        wait_for(tmp_path / "started")
        cli_pid = int((record.read() or {})["pid"])
        os.kill(cli_pid, signal.SIGKILL)

    threading.Thread(target=kill_when_started, daemon=True).start()
    with record.held("test"):
        outcome = run_supervised(
            cli(tmp_path, GRACEFUL_CLI), os.environ, tmp_path, record, say=lambda _: None
        )
    assert outcome.code == -signal.SIGKILL
    assert not alive(int((tmp_path / "plugin.pid").read_text()))


def test_a_watchdog_reason_cancels_the_cli(tmp_path: Path) -> None:
    record = RunRecord(tmp_path / "ws")
    reasons = iter([None, "the API server does not answer"])
    with record.held("test"):
        outcome = run_supervised(
            cli(tmp_path, GRACEFUL_CLI),
            os.environ,
            tmp_path,
            record,
            watchdog=lambda: next(reasons, None),
            watch_every_s=0.2,
            say=lambda _: None,
        )
    assert outcome.cancelled_because == "the API server does not answer"
    assert (tmp_path / "checkpoint").exists()


def test_a_cli_ignoring_its_cancel_is_asked_again(tmp_path: Path) -> None:
    stubborn = cli(
        tmp_path,
        "#!/usr/bin/env bash\ntrap 'echo $((++n)) > \"$1/asked\"; [[ $n == 2 ]] && exit 3' INT\n"
        "while true; do sleep 0.1; done\n",
    )
    record = RunRecord(tmp_path / "ws")
    with record.held("test"):
        outcome = run_supervised(
            stubborn,
            os.environ,
            tmp_path,
            record,
            watchdog=lambda: "gone",
            watch_every_s=0.1,
            force_after_s=0.5,
            say=lambda _: None,
        )
    assert outcome.code == 3
    assert (tmp_path / "asked").read_text() == "2\n"


def test_a_second_command_on_the_stack_is_refused_while_one_runs(tmp_path: Path) -> None:
    record = RunRecord(tmp_path / "ws")
    with record.held("first"):
        record.write(4242, "up --stack")
        with (
            pytest.raises(
                RunningError,
                match=r"another engine command runs on this stack now \(`pulumi up --stack`, pid 4242",
            ),
            RunRecord(tmp_path / "ws").held("second"),
        ):
            pass


def test_the_record_lock_is_not_inherited_by_the_cli(tmp_path: Path) -> None:
    """A plugin holding the lock would make every later command wait for it."""
    record = RunRecord(tmp_path / "ws")
    with record.held("test"):
        probe = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import fcntl; f=open({str(record.lock_file)!r}); "
                "fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB); print('free')",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert probe.returncode != 0, "held by us"
        leak = subprocess.Popen(["sleep", "30"])
    try:
        free = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import fcntl; f=open({str(record.lock_file)!r}); "
                "fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB); print('free')",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert free.stdout.strip() == "free", "a child started under the lock does not keep it"
    finally:
        leak.kill()
        leak.wait()


def test_session_members_sees_a_whole_session(tmp_path: Path) -> None:
    proc = subprocess.Popen(["bash", "-c", "sleep 30 & sleep 30 & wait"], start_new_session=True)
    try:
        deadline = time.monotonic() + 5
        while len(supervise.session_members(proc.pid)) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        stopped = supervise.stop_session(proc.pid, grace_s=2)
        assert len(stopped) == 3
        assert supervise.session_members(proc.pid) == []
    finally:
        proc.wait(timeout=5)


def test_the_cli_hears_the_cancel_when_we_started_with_interrupts_ignored(tmp_path: Path) -> None:
    """A command started in the background of a script inherits SIGINT ignored; the CLI must not (it
    would never cancel: this run used to hang until killed)."""
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from hastack_tools.ops.supervise import RunRecord, run_supervised\n"
        "folder = Path(sys.argv[1]); record = RunRecord(folder / 'ws')\n"
        "reasons = iter([None, 'gone'])\n"
        "with record.held('t'):\n"
        "    out = run_supervised([str(folder / 'fake-pulumi'), str(folder)], os.environ, folder, record,\n"
        "        watchdog=lambda: next(reasons, None), watch_every_s=0.5, say=lambda _: None)\n"
        "print(out.code)\n"
    )
    cli(tmp_path, GRACEFUL_CLI)
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert done.stdout.strip() == "255", done.stderr
    assert (tmp_path / "checkpoint").read_text() == "saved\n"
