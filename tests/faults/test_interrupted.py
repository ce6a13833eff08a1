"""Findings 3 and 7: after a SIGKILL of the CLI a lock, pending creates, orphaned objects (8 pods for 4)
and ~300 MB of plugins were left for 35+ minutes, `make` said `Error 247` and nothing else, and Ctrl-C
became that case (Python's KeyboardInterrupt, then SIGKILL 0.25 s later). Runbook: "Interrupted `up`"."""

from __future__ import annotations

import signal
import time

import pytest

from tests.e2e.kube import wait_until
from tests.faults.conftest import FIGURES, Deployed, kill, leftover_processes, runbook


def deployments(stack: Deployed) -> int:
    found = stack.faults.cluster.kubectl(
        "get", "deployments", "-n", stack.namespace, "-o", "name", check=False
    )
    return len(found.stdout.split()) if found.returncode == 0 else 0


def reference_objects(stack: Deployed) -> object:
    """What a clean deploy of this program holds: deployed and settled first, then destroyed."""
    assert stack.run("make up STACK=dev").code == 0
    reference = stack.cluster_objects()
    assert stack.run("make down STACK=dev").code == 0
    return reference


def test_a_cli_killed_mid_up_is_settled_by_its_own_wrapper_and_the_next_up(deployed: Deployed) -> None:
    reference = reference_objects(deployed)
    running = deployed.start("make up STACK=dev")
    cli = deployed.cli_pid()
    wait_until("the first Deployment", lambda: deployments(deployed) >= 1, timeout=300, interval=0.2)
    kill(cli)
    output, _ = running.communicate(timeout=600)
    assert running.returncode != 0
    assert "pulumi was killed (signal 9)" in output, output
    assert "settling the stack" in output
    assert leftover_processes(cli) == [], "no plugin of the killed CLI runs on"
    assert "removed Deployment" in output, output
    start = time.monotonic()
    for command in runbook("Interrupted `up` (Ctrl-C, a killed CLI, a closed terminal, a crashed machine)"):
        done = deployed.run(command)
        assert done.code == 0, done.output
    FIGURES["cli_sigkill_mid_up"] = {
        "recovery": "make up STACK=dev",
        "seconds": round(time.monotonic() - start, 1),
        **deployed.assert_settled(reference),  # type: ignore[arg-type]
    }


def test_a_run_killed_whole_is_settled_by_the_next_up(deployed: Deployed) -> None:
    """make, the wrapper and the CLI all SIGKILLed (a crashed machine, OOM): the next command finds the
    dead run's record, stops the plugins it left, removes its lock and adopts what it created."""
    reference = reference_objects(deployed)
    running = deployed.start("make up STACK=dev")
    cli = deployed.cli_pid()
    wait_until("the first Deployment", lambda: deployments(deployed) >= 1, timeout=300, interval=0.2)
    kill(-running.pid)  # make's process group: make and the wrapper
    kill(cli)  # then the CLI alone, as the OOM killer would: its plugins are left without an engine
    running.communicate(timeout=60)
    # our language host and the random/tls stand-ins notice the engine is gone and exit by themselves
    time.sleep(3)
    left = leftover_processes(cli)
    commands = [p for p in left if "pulumi-resource-kubernetes" not in _cmdline(p)]
    assert commands == [], (
        f"only the upstream kubernetes provider may outlive its engine: {[_cmdline(p) for p in left]}"
    )
    start = time.monotonic()
    done = deployed.run("make up STACK=dev")
    assert done.code == 0, done.output
    assert "did not finish: settling what it left" in done.output
    assert "removed the lock its dead owner left" in done.output, done.output
    assert leftover_processes(cli) == [], "the next run stopped the plugins the dead one left"
    FIGURES["whole_run_sigkill_mid_up"] = {
        "recovery": "make up STACK=dev",
        "seconds": round(time.monotonic() - start, 1),
        "orphan_plugins_after_3s": len(left),
        **deployed.assert_settled(reference),  # type: ignore[arg-type]
    }


def _cmdline(pid: int) -> str:
    from hastack_tools.ops.supervise import command_line

    return command_line(pid)


def test_ctrl_c_lets_pulumi_cancel_and_save_its_state(deployed: Deployed) -> None:
    reference = reference_objects(deployed)
    running = deployed.start("make up STACK=dev")
    cli = deployed.cli_pid()
    wait_until("the first Deployment", lambda: deployments(deployed) >= 1, timeout=300, interval=0.2)
    # a terminal's Ctrl-C: SIGINT to the foreground process group (make and the wrapper; the CLI runs in
    # a session of its own and hears it once, from the wrapper)
    kill(-running.pid, signal.SIGINT)
    output, _ = running.communicate(timeout=600)
    assert running.returncode != 0
    assert "interrupt received: pulumi finishes the steps in flight" in output, output
    assert "Traceback" not in output
    assert leftover_processes(cli) == []
    start = time.monotonic()
    done = deployed.run("make up STACK=dev")
    assert done.code == 0, done.output
    FIGURES["ctrl_c_mid_up"] = {
        "recovery": "make up STACK=dev",
        "seconds": round(time.monotonic() - start, 1),
        **deployed.assert_settled(reference),  # type: ignore[arg-type]
    }


def test_make_cancel_stops_a_running_update_and_settles_it(deployed: Deployed) -> None:
    commands = runbook("Interrupted `up` (Ctrl-C, a killed CLI, a closed terminal, a crashed machine)")
    assert commands == ["make up STACK=dev"]
    running = deployed.start("make up STACK=dev")
    deployed.cli_pid()
    wait_until("the first Deployment", lambda: deployments(deployed) >= 1, timeout=300, interval=0.2)
    start = time.monotonic()
    cancelled = deployed.run("make cancel STACK=dev")
    assert cancelled.code == 0, cancelled.output
    assert "has no lock and no pending operation" in cancelled.output
    running.communicate(timeout=120)
    assert running.returncode != 0
    FIGURES["make_cancel_mid_up"] = {
        "recovery": "make cancel STACK=dev",
        "seconds": round(time.monotonic() - start, 1),
    }
    deployed.assert_settled()
    assert deployed.run("make up STACK=dev").code == 0
    deployed.assert_settled()


def test_two_ups_at_once_one_is_refused_at_once(deployed: Deployed) -> None:
    running = deployed.start("make up STACK=dev")
    deployed.cli_pid()
    second = deployed.run("make up STACK=dev", timeout=120)
    assert second.code != 0
    assert "another engine command runs on this stack now (`pulumi up --stack`" in second.output, (
        second.output
    )
    output, _ = running.communicate(timeout=600)
    assert running.returncode == 0, output
    FIGURES["two_ups_at_once"] = {"refused_in_s": round(second.seconds, 1), **deployed.assert_settled()}


@pytest.mark.parametrize("stage", ["preview"])
def test_the_lock_of_a_live_update_elsewhere_is_never_removed(deployed: Deployed, stage: str) -> None:
    """A lock whose owner runs on another machine cannot be checked from here: refused, named."""
    import json
    import socket

    assert deployed.run("make up STACK=dev").code == 0
    locks = deployed.workdir / "state" / ".pulumi" / "locks" / "organization" / "hastack" / "dev"
    locks.mkdir(parents=True, exist_ok=True)
    lock = locks / "elsewhere.json"
    lock.write_text(
        json.dumps({"pid": 1, "hostname": f"not-{socket.gethostname()}", "username": "ci", "timestamp": "t"})
    )
    refused = deployed.run(f"make {stage} STACK=dev")
    assert refused.code != 0
    assert "is locked by an update of ci@not-" in refused.output, refused.output
    assert "make cancel STACK=dev FORCE=1" in refused.output
    assert lock.exists()
    forced = deployed.run("make cancel STACK=dev FORCE=1")
    assert forced.code == 0, forced.output
    assert not lock.exists()
    deployed.assert_settled()
