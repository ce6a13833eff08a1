"""A failed gate halts the rollout: the stack, the gate and what it saw are named, and later waves
are not touched (their stacks not even created)."""

from __future__ import annotations

from tests.fleet.conftest import THREE_WAVES, FleetDir


def test_a_policy_violation_in_wave_two_halts_naming_stack_and_rule_and_a_fix_resumes(
    fleet_dir: FleetDir,
) -> None:
    fleet_dir.stack("pol-a")
    fleet_dir.stack("pol-b", replicas=1)  # one replica: the pack's min-replicas rule is mandatory
    fleet_dir.stack("pol-c")
    fleet_dir.write(THREE_WAVES.format(name="policy", prefix="pol", timeout=120))

    up = fleet_dir.run("up")
    assert up.code == 1, up.output
    assert "HALTED: stack pol-b (wave two, cluster fleet-b) failed gate policy: " in up.output
    assert "rule min-replicas on Deployment web: Deployment pol-b/web-" in up.output
    assert "spec.replicas is 1; at least 2 needed" in up.output
    assert "later waves not started: three" in up.output
    state = fleet_dir.state()
    assert state["result"] == "halted"
    assert state["stacks"]["pol-a"]["phase"] == "passed"
    assert state["stacks"]["pol-b"]["gate"] == "policy"
    assert state["stacks"]["pol-c"]["phase"] == "pending"
    # the gate ran before `up`: nothing of pol-b reached its cluster, and wave three is untouched
    assert not fleet_dir.namespace_exists("fleet-b", "pol-b")
    assert not fleet_dir.namespace_exists("fleet-c", "pol-c")
    assert not (fleet_dir.workdir / "stacks").exists() or not list(
        (fleet_dir.workdir / "stacks").glob("*/*/pol-c")
    )
    status = fleet_dir.run("status")
    assert status.code == 1
    assert "failed gate policy: " in status.output
    assert "rule min-replicas on Deployment web" in status.output
    assert "wave 3 three: not started" in status.output

    fleet_dir.stack("pol-b")  # fixed: two replicas
    resumed = fleet_dir.run("up")
    assert resumed.code == 0, resumed.output
    assert "resuming rollout" in resumed.output
    assert "wave one: nothing to do" in resumed.output  # the passed wave is not deployed again
    assert fleet_dir.deployments("fleet-c", "pol-c")


def test_a_deployment_that_never_becomes_available_halts_at_the_available_gate(fleet_dir: FleetDir) -> None:
    fleet_dir.stack("avl-a")
    fleet_dir.stack("avl-b", unschedulable=True)  # a nodeSelector no node matches
    fleet_dir.stack("avl-c")
    fleet_dir.write(THREE_WAVES.format(name="available", prefix="avl", timeout=15))

    up = fleet_dir.run("up")
    assert up.code == 1, up.output
    assert (
        "HALTED: stack avl-b (wave two, cluster fleet-b) failed gate available: not Available within 15 s"
        in up.output
    )
    assert "0/2 available" in up.output
    assert "didn't match Pod's node affinity/selector" in up.output  # what the scheduler said
    assert "later waves not started: three" in up.output
    assert not fleet_dir.namespace_exists("fleet-c", "avl-c")
    assert fleet_dir.state()["stacks"]["avl-c"]["phase"] == "pending"

    down = fleet_dir.run("destroy")  # last wave first; the untouched stack is not even created for it
    assert down.code == 0, down.output
    assert "avl-c: never deployed, nothing to destroy" in down.output
    assert not list(fleet_dir.workdir.glob("state/.pulumi/stacks/*/avl-c.json*"))
    assert not fleet_dir.namespace_exists("fleet-b", "avl-b")
