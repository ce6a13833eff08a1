"""The orchestrator killed (SIGKILL) in the middle of a wave: `status` says which stack was in which
phase and that nobody runs the rollout; `up` settles what the dead run left and resumes."""

from __future__ import annotations

import os
import signal

from tests.fleet.conftest import FleetDir, wait_for

FLEET = """\
name: killed
program: program
stacks:
  - {name: kill-a, cluster: fleet-a}
  - {name: kill-b, cluster: fleet-b}
  - {name: kill-c, cluster: fleet-c}
waves:
  - name: first
    stacks: [kill-a, kill-b]
    parallelism: 2
    gates: {availableTimeoutSeconds: 120, noChangePreview: false, policy: false}
  - name: second
    stacks: [kill-c]
    gates: {availableTimeoutSeconds: 120, noChangePreview: false, policy: false}
"""


def test_status_after_the_orchestrator_is_killed_mid_wave_tells_the_truth_and_up_resumes(
    fleet_dir: FleetDir,
) -> None:
    for name in ("kill-a", "kill-b", "kill-c"):
        fleet_dir.stack(name)
    fleet_dir.write(FLEET)
    orchestrator = fleet_dir.start("up")
    try:

        def deploying() -> bool:
            stacks = fleet_dir.state().get("stacks") or {}
            return bool(stacks.get("kill-a", {}).get("phase") == "up")

        wait_for("kill-a in phase up", deploying, timeout=300, interval=0.05)
        wait_for(
            "kill-a's namespace created", lambda: fleet_dir.namespace_exists("fleet-a", "kill-a"), 120, 0.05
        )
        os.kill(orchestrator.pid, signal.SIGKILL)  # the orchestrator alone, as the OOM killer would
        orchestrator.wait(30)
    finally:
        if orchestrator.poll() is None:
            orchestrator.kill()

    status = fleet_dir.run("status")
    assert status.code == 1, status.output
    assert f"INTERRUPTED: the orchestrator (pid {orchestrator.pid}) is gone" in status.output
    assert "stack kill-a (wave first) was in phase 'up'" in status.output
    assert "wave 2 second: not started" in status.output
    assert fleet_dir.state()["stacks"]["kill-c"]["phase"] == "pending"

    resumed = fleet_dir.run("up")
    assert resumed.code == 0, resumed.output
    assert "resuming rollout" in resumed.output
    assert ": passed at " in fleet_dir.run("status").output
    state = fleet_dir.state()
    assert state["result"] == "passed"
    # what the killed run created half-way is there once, not twice
    (deployment,) = fleet_dir.deployments("fleet-a", "kill-a")
    assert deployment["status"].get("availableReplicas") == 2
    assert fleet_dir.deployments("fleet-c", "kill-c")
