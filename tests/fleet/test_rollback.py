"""`onFailure: rollback`: a wave that fails its Available gate goes back to the commit at which its stack
last passed (an `up` of that commit's program from a worktree), while the rollout still halts and later
waves stay untouched. With `halt` (the counterfactual) the failed revision stays deployed."""

from __future__ import annotations

import pytest

from tests.fleet.conftest import THREE_WAVES, FleetDir
from tests.git import git

FLEET = THREE_WAVES + "onFailure: {on_failure}\n"


def web(fleet_dir: FleetDir, cluster: str, namespace: str) -> dict[str, object]:
    (deployment,) = fleet_dir.deployments(cluster, namespace)
    return dict(deployment)


@pytest.mark.parametrize("on_failure", ["rollback", "halt"])
def test_a_failed_wave_goes_back_to_the_commit_it_last_passed_at(
    fleet_dir: FleetDir, on_failure: str
) -> None:
    prefix = "rbk" if on_failure == "rollback" else "hlt"
    for stack in ("a", "b", "c"):
        fleet_dir.stack(f"{prefix}-{stack}")
    fleet_dir.write(FLEET.format(name=f"rollback-{prefix}", prefix=prefix, timeout=15, on_failure=on_failure))
    (fleet_dir.root / ".gitignore").write_text("work/\n.venv\n")
    git(fleet_dir.root, "init", "-q")
    git(fleet_dir.root, "add", ".")
    git(fleet_dir.root, "commit", "-qm", "two replicas everywhere")
    good = git(fleet_dir.root, "rev-parse", "HEAD")

    first = fleet_dir.run("up")
    assert first.code == 0, first.output
    assert fleet_dir.state()["stacks"][f"{prefix}-b"]["revision"] == good[:12]

    fleet_dir.stack(f"{prefix}-b", replicas=3, unschedulable=True)  # a bad change, committed
    git(fleet_dir.root, "commit", "-qam", "three replicas on a node label no node has")

    second = fleet_dir.run("up")
    assert second.code == 1, second.output
    assert f"stack {prefix}-b (wave two, cluster fleet-b) failed gate available" in second.output
    assert "later waves not started: three" in second.output
    deployment = web(fleet_dir, "fleet-b", f"{prefix}-b")
    spec = deployment["spec"]
    assert isinstance(spec, dict)
    if on_failure == "halt":  # the counterfactual: the failed revision stays
        assert "rolled back" not in second.output
        assert spec["replicas"] == 3 and spec["template"]["spec"].get("nodeSelector")
        return
    assert f"{prefix}-b: rolled back to {good[:12]} (1 Deployment(s) Available" in second.output
    assert spec["replicas"] == 2 and not spec["template"]["spec"].get("nodeSelector")
    status = deployment["status"]
    assert isinstance(status, dict) and status.get("availableReplicas") == 2
    state = fleet_dir.state()
    assert state["stacks"][f"{prefix}-b"]["phase"] == "failed"
    assert state["stacks"][f"{prefix}-b"]["rollback"].startswith(f"rolled back to {good[:12]}")
    assert state["stacks"][f"{prefix}-a"]["phase"] == "passed"  # wave one passed: not rolled back
    assert state["stacks"][f"{prefix}-c"]["phase"] == "pending"  # this rollout never reached it
    assert "rollback" not in git(fleet_dir.root, "worktree", "list")  # the worktree is gone
    shown = fleet_dir.run("status")
    assert "failed gate available" in shown.output and f"rolled back to {good[:12]}" in shown.output
