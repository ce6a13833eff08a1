"""The fleet's bookkeeping without a cluster: the progress record and what `status` makes of it, the
leftovers of a killed run found by their mark, and the engine's events in the halt's words. The
rollouts themselves are the fleet tier's (tests/fleet)."""

from __future__ import annotations

import fcntl
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from pulumi import automation as auto

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.ops import fleet
from hastack_tools.ops.fleet_config import parse
from hastack_tools.ops.stacks import StackWorkspace

URN = "urn:pulumi:roll-b::fleetapp::"


def orchestrator(tmp_path: Path) -> tuple[fleet.Orchestrator, list[str]]:
    raw = {
        "name": "f",
        "program": str(REPO_ROOT),
        "stacks": [{"name": "dev", "cluster": "fleet-a"}, {"name": "staging", "cluster": "fleet-b"}],
        "waves": [{"name": "one", "stacks": ["dev"]}, {"name": "two", "stacks": ["staging"]}],
    }
    lines: list[str] = []
    return fleet.Orchestrator(parse(raw, REPO_ROOT / "F.yaml"), tmp_path, out=lines.append), lines


def record(**stacks: dict[str, Any]) -> dict[str, Any]:
    return {"command": "up", "rollout": "r1", "result": "running", "pid": 4242, "stacks": stacks}


def test_status_of_a_record_whose_orchestrator_is_gone_says_interrupted_and_where(tmp_path: Path) -> None:
    run, lines = orchestrator(tmp_path)
    run.state.update(
        lambda r: r.update(record(dev={"wave": 0, "phase": "passed"}, staging={"wave": 1, "phase": "soak"}))
    )
    assert run.status() == 1
    assert lines[0] == (
        "fleet f, up r1: INTERRUPTED: the orchestrator (pid 4242) is gone; stack staging (wave two) was "
        "in phase 'soak'; `hastack fleet up` resumes"
    )
    assert [line for line in lines if line.startswith("wave")] == ["wave 1 one: passed", "wave 2 two: soak"]


def test_status_while_the_orchestrator_holds_its_lock_says_running(tmp_path: Path) -> None:
    run, lines = orchestrator(tmp_path)
    run.state.update(lambda r: r.update(record(dev={"wave": 0, "phase": "up"})))
    with open(run.folder / "orchestrator.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert run.status() == 0
    assert lines[0] == "fleet f, up r1: running (orchestrator pid 4242)"
    assert lines[-1].startswith("  staging on cluster fleet-b: pending")


def test_a_halt_names_the_stack_the_gate_and_what_it_saw(tmp_path: Path) -> None:
    run, lines = orchestrator(tmp_path)
    failed = {"wave": 1, "phase": "failed", "gate": "available", "saw": "0/2 available", "where": "cluster b"}
    run.state.update(lambda r: r.update(record(dev={"wave": 0, "phase": "passed"}, staging=failed)))
    run.state.update(lambda r: r.update(result="halted"))
    assert run.status() == 1
    assert lines[0] == (
        "fleet f, up r1: HALTED: stack staging (wave two, cluster b) failed gate available: 0/2 available"
    )


def test_the_record_is_replaced_whole_never_left_half_written(tmp_path: Path) -> None:
    state = fleet.FleetState(tmp_path)
    state.set_stack("dev", phase="up")
    state.set_stack("dev", gate=None)
    loaded = json.loads(state.file.read_text())
    assert loaded["stacks"]["dev"]["phase"] == "up"
    assert "updated" in loaded["stacks"]["dev"]
    assert not state.file.with_suffix(".tmp").exists()


def test_what_a_killed_run_left_is_found_by_its_mark_and_stopped() -> None:
    mark = f"test-{os.getpid()}-{time.monotonic_ns()}"
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], env={**os.environ, fleet.RUN_MARK: mark}
    )
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert fleet.marked_processes(mark) == [child.pid]
        (stopped,) = fleet.stop_marked(mark)
        assert stopped.startswith(f"{child.pid} ")
        assert child.wait(10) is not None
        assert other.poll() is None  # an unmarked process is not touched
    finally:
        for proc in (child, other):
            proc.kill()
            proc.wait()


def event(**fields: Any) -> auto.EngineEvent:
    return auto.EngineEvent.from_json({"sequence": 1, "timestamp": 1, **fields})


def test_mandatory_policy_events_become_the_rule_and_the_resource() -> None:
    events = [
        event(
            policyEvent={
                "message": "Serving workloads run at least the minimum.\nDeployment web spec.replicas is 1",
                "color": "never",
                "policyName": "min-replicas",
                "policyPackName": "hastack-ha",
                "policyPackVersion": "1",
                "policyPackVersionTag": "1",
                "enforcementLevel": "mandatory",
                "resourceUrn": URN + "kubernetes:apps/v1:Deployment::web",
            }
        ),
        event(
            policyEvent={
                "message": "advice",
                "color": "never",
                "policyName": "priority-class-set",
                "policyPackName": "hastack-ha",
                "policyPackVersion": "1",
                "policyPackVersionTag": "1",
                "enforcementLevel": "advisory",
            }
        ),
    ]
    assert fleet.policy_violations(events) == [
        "rule min-replicas on Deployment web: Deployment web spec.replicas is 1"
    ]


def test_a_preview_step_becomes_the_object_and_its_fields() -> None:
    def step(op: str, name: str, diff: dict[str, Any] | None = None) -> auto.EngineEvent:
        metadata = {
            "op": op,
            "urn": URN + f"kubernetes:apps/v1:Deployment::{name}",
            "type": "kubernetes:apps/v1:Deployment",
            "provider": "",
            "detailedDiff": diff,
        }
        return event(resourcePreEvent={"metadata": metadata})

    events = [
        step("same", "quiet"),
        step("refresh", "web"),
        step("update", "web", {"spec.replicas": {"diffKind": "update", "inputDiff": True}}),
    ]
    assert fleet.changed(events) == ["update kubernetes:apps/v1:Deployment web: spec.replicas"]


def test_a_fleet_cluster_starts_with_kwok_nodes_unless_its_stack_asks_for_real_ones(tmp_path: Path) -> None:
    """The example fleet's staging and prod images are placeholders no registry here serves: on real nodes
    they never become Available, so a fleet's local control planes are kwok unless a stack says `nodes`."""
    raw = {
        "name": "f",
        "program": str(REPO_ROOT),
        "stacks": [
            {"name": "dev", "cluster": "fleet-a", "nodes": "real"},
            {"name": "staging", "cluster": "fleet-b"},
        ],
        "waves": [{"name": "one", "stacks": ["dev", "staging"]}],
    }
    loaded = parse(raw, REPO_ROOT / "F.yaml")
    dev, _ = fleet.stack_env(loaded.targets["dev"], {"HASTACK_CACHE": str(tmp_path)}, tmp_path)
    staging, _ = fleet.stack_env(loaded.targets["staging"], {"HASTACK_CACHE": str(tmp_path)}, tmp_path)
    assert (dev["HASTACK_CLUSTER"], dev["HASTACK_NODES"]) == ("fleet-a", "real")
    assert (staging["HASTACK_CLUSTER"], staging["HASTACK_NODES"]) == ("fleet-b", "kwok")


def test_the_automation_api_runs_from_the_generated_folder_with_the_program_as_main(tmp_path: Path) -> None:
    """So what the CLI writes into a stack file (the salt) never lands in the repo's."""
    program = tmp_path / "repo" / "program"
    program.mkdir(parents=True)
    (program / "Pulumi.yaml").write_text(
        "name: p\nruntime:\n  name: python\n  options:\n    virtualenv: .venv\n"
    )
    workspace = StackWorkspace("p", "dev", tmp_path / "cache", "file:///state")
    folder = fleet.automation_project(program, workspace)
    assert folder == workspace.folder
    project = yaml.safe_load((folder / "Pulumi.yaml").read_text())
    assert (folder / project["main"]).resolve() == program.resolve()
    assert project["runtime"]["options"]["virtualenv"] == str(program / ".venv")
    assert project["name"] == "p"


def _namespace(name: str, **extra: Any) -> dict[str, Any]:
    return {"type": fleet.NAMESPACE, "custom": True, "outputs": {"metadata": {"name": name}}, **extra}


def test_destroy_clears_only_the_namespaces_the_state_created() -> None:
    """The namespaces a destroy may delete first: those the stack made; none when anything must survive
    the destroy (retainOnDelete) or refuses it (protect), which a namespace delete would not honour."""
    deployment = {"type": fleet.DEPLOYMENT, "custom": True, "outputs": {"metadata": {"name": "web"}}}
    assert fleet.owned_namespaces([_namespace("shop"), deployment]) == ["shop"]
    assert fleet.owned_namespaces([_namespace("shop", external=True), deployment]) == []  # read, not made
    assert fleet.owned_namespaces([_namespace("shop"), {**deployment, "retainOnDelete": True}]) == []
    assert fleet.owned_namespaces([_namespace("shop"), {**deployment, "protect": True}]) == []


class GoingAPI:
    """A cluster whose namespaces answer 200 twice after their delete, then 404."""

    def __init__(self, present: set[str]) -> None:
        self.present, self.reads = present, dict.fromkeys(present, 0)

    def delete(self, api_version: str, kind: str, namespace: str | None, name: str) -> bool:
        assert (api_version, kind, namespace) == ("v1", "Namespace", None)
        return name in self.present

    def get(self, path: str) -> tuple[int, bytes]:
        name = path.rsplit("/", 1)[1]
        self.reads[name] += 1
        return (200 if self.reads[name] <= 2 else 404), b"{}"


def test_clearing_waits_until_each_deleted_namespace_is_gone() -> None:
    api = GoingAPI({"shop", "shop-2"})
    cleared = fleet.clear_namespaces(api, ["shop", "gone", "shop-2"], timeout_s=30)  # type: ignore[arg-type]
    assert cleared == (["shop", "shop-2"], [])
    assert api.reads == {"shop": 3, "shop-2": 3}  # read until 404, no further


def test_clearing_reports_a_namespace_still_there_at_the_timeout() -> None:
    api = GoingAPI({"shop"})
    api.reads["shop"] = -(10**6)  # answers 200 far past the timeout
    assert fleet.clear_namespaces(api, ["shop"], timeout_s=0.6) == (["shop"], ["shop"])  # type: ignore[arg-type]


def _object(token: str, name: str, namespace: str | None = None, **extra: Any) -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {
        "type": token,
        "custom": True,
        "urn": f"{URN}{token}::{name}",
        "outputs": {"metadata": meta},
        **extra,
    }


IN_SHOP = [
    _namespace("shop"),
    _object(fleet.DEPLOYMENT, "web", "shop"),
    _object("kubernetes:networking.k8s.io/v1:NetworkPolicy", "deny", "shop"),
    _object("random:index/randomPassword:RandomPassword", "token"),  # lives in the state alone
    _object("pulumi:providers:kubernetes", "default"),
    _object("pulumi:pulumi:StackReference", "callee"),
    _object("kubernetes:core/v1:ConfigMap", "seen", "kube-system", external=True),  # a read
    {"type": "hastack:index:HighlyAvailableApp", "custom": False, "urn": f"{URN}app"},
]


def test_what_the_namespaces_deletion_takes_and_what_it_leaves() -> None:
    """Only objects inside the deleted namespaces (and what has no object at all) go with them; a
    cluster-scoped object, one in another namespace, a helm release or another cloud's resource outlive
    it, and with any of those the engine destroys."""
    assert fleet.outlived(IN_SHOP, ["shop"]) == []
    outside = [
        _object("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "reader"),
        _object(fleet.DEPLOYMENT, "web", "other"),
        _object("kubernetes:helm.sh/v3:Release", "redis", "shop"),
        _object("aws:s3/bucket:Bucket", "backups"),
    ]
    assert fleet.outlived(IN_SHOP + outside, ["shop"]) == [
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole reader",
        "kubernetes:apps/v1:Deployment web",
        "kubernetes:helm.sh/v3:Release redis",
        "aws:s3/bucket:Bucket backups",
    ]
    assert fleet.outlived(IN_SHOP, []) == [
        "kubernetes:core/v1:Namespace shop",
        "kubernetes:apps/v1:Deployment web",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy deny",
    ]


class DestroyedStack:
    def __init__(self) -> None:
        self.destroyed = 0

    def destroy(self, **_options: Any) -> None:
        self.destroyed += 1


def _destroy(tmp_path: Path, monkeypatch: Any, resources: list[dict[str, Any]], api: Any) -> tuple[int, int]:
    """(engine destroys, states emptied) of one stack's destroy."""
    forgotten: list[str] = []
    monkeypatch.setattr(fleet, "forget_all", lambda run: forgotten.append(run.target.name))
    orchestrator_, _ = orchestrator(tmp_path)
    run = fleet.StackRun(
        orchestrator_.fleet.targets["dev"],
        StackWorkspace("p", "dev", tmp_path, "file:///s"),
        {},
        api,
        DestroyedStack(),  # type: ignore[arg-type]
        io.BytesIO(),
        False,
        ("local", None),
        True,
        {"deployment": {"resources": resources}},
    )
    run.scaled = lambda command: None  # type: ignore[method-assign]
    orchestrator_.destroy_opened(run)
    return run.stack.destroyed, len(forgotten)  # type: ignore[attr-defined]


def test_destroy_empties_the_state_only_when_the_namespaces_took_every_object(
    tmp_path: Path, monkeypatch: Any
) -> None:
    assert _destroy(tmp_path, monkeypatch, IN_SHOP, GoingAPI({"shop"})) == (0, 1)
    role = _object("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "reader")
    assert _destroy(tmp_path, monkeypatch, [*IN_SHOP, role], GoingAPI({"shop"})) == (1, 0)
    stuck = GoingAPI({"shop"})
    stuck.reads["shop"] = -(10**6)
    monkeypatch.setattr(fleet, "NAMESPACE_GONE_S", 0.6)
    assert _destroy(tmp_path, monkeypatch, IN_SHOP, stuck) == (1, 0)  # a finalizer holds it: the engine
    protected = [{**r, "protect": True} if r["type"] == fleet.DEPLOYMENT else r for r in IN_SHOP]
    assert _destroy(tmp_path, monkeypatch, protected, GoingAPI({"shop"})) == (1, 0)
