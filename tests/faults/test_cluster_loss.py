"""Finding 5: with the API server gone `make up` hung 600 s and blamed a rollout; any dead component made
cluster/up.sh wipe etcd, and the next `make up` reported `24 unchanged` over a cluster that had nothing.
Runbooks: "The API server goes away during `up`", "Cluster loss (disaster recovery onto a new cluster)"."""

from __future__ import annotations

import signal
import time

from hastack_tools.ops.engine import FORCE_AFTER_S, UNREACHABLE_AFTER_S
from tests.e2e.kube import wait_until
from tests.faults.conftest import FIGURES, Deployed, changes, kill, leftover_processes, runbook
from tests.faults.test_interrupted import deployments, reference_objects


def test_an_api_server_lost_mid_up_is_reported_unreachable_in_bounded_time(deployed: Deployed) -> None:
    reference = reference_objects(deployed)
    running = deployed.start("make up STACK=dev")
    cli = deployed.cli_pid()
    wait_until("the first Deployment", lambda: deployments(deployed) >= 1, timeout=300, interval=0.2)
    lost_at = time.monotonic()
    kill(deployed.faults.pid("kube-apiserver"), signal.SIGKILL)
    output, _ = running.communicate(timeout=UNREACHABLE_AFTER_S + FORCE_AFTER_S + 120)
    reported_after = time.monotonic() - lost_at
    assert running.returncode != 0
    assert (
        "does not answer" in output and f"for {UNREACHABLE_AFTER_S:.0f} s: cancelling the update" in output
    ), output
    assert "timed out waiting to be Ready" not in output
    assert leftover_processes(cli) == []
    start = time.monotonic()
    for command in runbook("The API server goes away during `up`"):
        done = deployed.run(command)  # starts the control plane again on its own state, then deploys
        assert done.code == 0, done.output
        assert "restarting on the state" in done.output and "objects kept" in done.output, done.output
    FIGURES["api_server_lost_mid_up"] = {
        "reported_unreachable_after_s": round(reported_after, 1),
        "recovery": "make up STACK=dev",
        "seconds": round(time.monotonic() - start, 1),
        **deployed.assert_settled(reference),  # type: ignore[arg-type]
    }


def test_a_dead_component_is_restarted_and_nothing_is_wiped(deployed: Deployed) -> None:
    assert deployed.run("make up STACK=dev").code == 0
    reference = deployed.cluster_objects()
    kill(deployed.faults.pid("kube-controller-manager"), signal.SIGKILL)
    again = deployed.run("make up STACK=dev")
    assert again.code == 0, again.output
    assert "restarting on the state" in again.output
    assert set(changes(again.output)) == {"unchanged"}, again.output
    FIGURES["dead_component"] = deployed.assert_settled(reference)


def test_disaster_recovery_onto_a_new_cluster(deployed: Deployed) -> None:
    """The drill: the cluster is lost with every object (cluster-reset), a new one comes up at the same
    target; `make up` sees the new cluster and refreshes first, so it recreates everything."""
    assert deployed.run("make up STACK=dev").code == 0
    reference = deployed.cluster_objects()
    reset = deployed.faults.script("down.sh", "--reset")
    assert reset.returncode == 0, reset.stderr
    deployed.faults.up()
    assert deployed.cluster_objects().total() == 0, "the new cluster has nothing"
    start = time.monotonic()
    (command,) = runbook("Cluster loss (disaster recovery onto a new cluster)")
    done = deployed.run(command)
    assert done.code == 0, done.output
    assert "is a new one" in done.output and "refreshing the state from it first" in done.output, done.output
    FIGURES["cluster_lost"] = {
        "recovery": command,
        "seconds": round(time.monotonic() - start, 1),
        **deployed.assert_settled(reference),
    }
