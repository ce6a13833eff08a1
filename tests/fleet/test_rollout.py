"""A two-wave rollout across three clusters, drift after an out-of-band edit cleared by `up`, and a
destroy in reverse wave order that leaves nothing."""

from __future__ import annotations

import re

from tests.fleet.conftest import FleetDir, wait_for

FLEET = """\
name: rollout
program: program
stacks:
  - {name: roll-a, cluster: fleet-a}
  - {name: roll-b, cluster: fleet-b}
  - {name: roll-c, cluster: fleet-c}
waves:
  - name: first
    stacks: [roll-a]
    gates: {availableTimeoutSeconds: 120, soakSeconds: 3}
  - name: second
    stacks: [roll-b, roll-c]
    parallelism: 2
    gates: {availableTimeoutSeconds: 120, noChangePreview: false}
"""


def test_two_waves_roll_out_drift_is_found_and_cleared_and_destroy_runs_in_reverse(
    fleet_dir: FleetDir,
) -> None:
    for name in ("roll-a", "roll-b", "roll-c"):
        fleet_dir.stack(name)
    fleet_dir.write(FLEET)

    plan = fleet_dir.run("plan")
    assert plan.code == 0, plan.output
    assert re.search(r"roll-b on cluster fleet-b: \d+ change", plan.output), plan.output
    assert "create kubernetes:apps/v1:Deployment web" in plan.output

    up = fleet_dir.run("up")
    assert up.code == 0, up.output
    # wave order: the second wave starts only once the first passed every gate
    assert up.output.index("roll-a: passed every gate") < up.output.index("wave second:")
    state = fleet_dir.state()
    assert state["result"] == "passed"
    assert {s["phase"] for s in state["stacks"].values()} == {"passed"}
    for cluster, namespace in (("fleet-a", "roll-a"), ("fleet-b", "roll-b"), ("fleet-c", "roll-c")):
        (deployment,) = fleet_dir.deployments(cluster, namespace)
        assert deployment["status"].get("availableReplicas") == 2
        # each stack on its own cluster only
        others = [c for c in ("fleet-a", "fleet-b", "fleet-c") if c != cluster]
        assert not any(fleet_dir.namespace_exists(c, namespace) for c in others)
    status = fleet_dir.run("status", make=True)  # the make target runs the same command
    assert status.code == 0, status.output
    assert "wave 2 second: passed" in status.output

    assert fleet_dir.run("drift").code == 0
    # out of band, through the cluster's API: someone scales roll-b's Deployment by hand
    api = fleet_dir.clusters["fleet-b"]
    (live,) = fleet_dir.deployments("fleet-b", "roll-b")
    live["spec"]["replicas"] = 3
    path = f"/apis/apps/v1/namespaces/roll-b/deployments/{live['metadata']['name']}"
    code, _ = api.api("PUT", path, live)
    assert code == 200
    drift = fleet_dir.run("drift")
    assert drift.code == 1, drift.output
    assert "roll-b: DRIFT" in drift.output
    assert re.search(r"update kubernetes:apps/v1:Deployment web: .*spec\.replicas", drift.output), (
        drift.output
    )
    assert "roll-a: no drift" in drift.output
    assert "roll-c: no drift" in drift.output

    again = fleet_dir.run("up")
    assert again.code == 0, again.output
    (restored,) = fleet_dir.deployments("fleet-b", "roll-b")
    assert restored["spec"]["replicas"] == 2
    cleared = fleet_dir.run("drift")
    assert cleared.code == 0, cleared.output

    down = fleet_dir.run("destroy")
    assert down.code == 0, down.output
    assert down.output.index("wave second:") < down.output.index("wave first:")
    assert down.output.index("roll-b: destroyed") < down.output.index("roll-a: destroyed")
    for cluster_name, namespace in (("fleet-a", "roll-a"), ("fleet-b", "roll-b"), ("fleet-c", "roll-c")):
        wait_for(
            f"namespace {namespace} gone from {cluster_name}",
            lambda c=cluster_name, n=namespace: not fleet_dir.namespace_exists(c, n),
            timeout=120,
        )
    assert {s["phase"] for s in fleet_dir.state()["stacks"].values()} == {"destroyed"}
    for name in ("roll-a", "roll-b", "roll-c"):  # each namespace went first, taking every object with it
        (log,) = fleet_dir.workdir.glob(f"**/logs/{name}.log")
        said = log.read_text()
        assert f"deleted namespace(s) {name} first" in said, name
        assert "emptied the state" in said and "destroying through the engine" not in said, name
    assert fleet_dir.resource_counts() == {"roll-a": 0, "roll-b": 0, "roll-c": 0}  # the backend holds none
