"""The orphan sweep: which objects a run that lost its checkpoint writes left behind, found through a
fake API server's answers (discovery, lists, deletes) and deleted, and which must survive."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hastack_tools.ops import kubeapi, recovery
from hastack_tools.ops.stacks import EngineError, StackWorkspace

DISCOVERY = {
    "/api/v1": [
        ("configmaps", "ConfigMap", True),
        ("secrets", "Secret", True),
        ("services", "Service", True),
        ("serviceaccounts", "ServiceAccount", True),
        ("namespaces", "Namespace", False),
    ],
    "/apis/apps/v1": [("deployments", "Deployment", True), ("deployments/scale", "Scale", True)],
    "/apis/autoscaling/v2": [("horizontalpodautoscalers", "HorizontalPodAutoscaler", True)],
    "/apis/networking.k8s.io/v1": [
        ("ingresses", "Ingress", True),
        ("networkpolicies", "NetworkPolicy", True),
    ],
    "/apis/policy/v1": [("poddisruptionbudgets", "PodDisruptionBudget", True)],
}
"""What the fake server serves; the gateway's HTTPRoute is deliberately not served (no CRD)."""


def item(name: str, *managers: str, **metadata: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "managedFields": [{"manager": m, "operation": "Apply"} for m in managers],
            **metadata,
        }
    }


def k8s(type_token: str, object_id: str, *, outputs: bool = True) -> dict[str, Any]:
    namespace, _, name = object_id.rpartition("/")
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    resource: dict[str, Any] = {"type": type_token, "id": object_id, "urn": f"urn:{type_token}::{name}"}
    if outputs:
        resource["outputs"] = {"metadata": metadata}
    return resource


@dataclass(frozen=True)
class FakeAPI(kubeapi.KubeAPI):
    """Answers from `objects` ((collection path, namespace) to items); records what was asked."""

    objects: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def get(self, path: str, timeout_s: float = 5.0, method: str = "GET") -> tuple[int, bytes]:
        self.asked.append(f"{method} {path}")
        if method == "DELETE":
            self.deleted.append(path.split("?", 1)[0])
            return 200, b"{}"
        if path in DISCOVERY:
            listed = [{"name": n, "kind": k, "namespaced": ns} for n, k, ns in DISCOVERY[path]]
            return 200, json.dumps({"resources": listed}).encode()
        for (collection, namespace), items in self.objects.items():
            base, _, plural = collection.rpartition("/")
            if path == f"{base}/namespaces/{namespace}/{plural}":
                return 200, json.dumps({"items": items}).encode()
        if "/namespaces/" in path:
            return 200, b'{"items": []}'
        return 404, b"{}"


def fake_api(objects: dict[tuple[str, str], list[dict[str, Any]]]) -> FakeAPI:
    return FakeAPI(
        server="https://127.0.0.1:1",
        context="fake",
        source=Path("fake"),
        ca=None,
        cert=None,
        key=None,
        token=None,
        objects=objects,
    )


STATE: dict[str, Any] = {
    "deployment": {
        "resources": [
            {"type": "pulumi:pulumi:Stack", "urn": "urn:stack"},
            {"type": "pulumi:providers:kubernetes", "id": "abc", "urn": "urn:provider"},
            k8s("kubernetes:core/v1:Namespace", "shop"),
            k8s("kubernetes:core/v1:Service", "shop/web"),
            k8s("kubernetes:networking.k8s.io/v1:Ingress", "shop/web-1111aaaa"),
            k8s("kubernetes:apps/v1:Deployment", "shop/web-2222bbbb", outputs=False),
            k8s("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "shop/web-3333cccc"),
        ]
    }
}
PULUMI = "pulumi-kubernetes-f851b421"


def test_a_pulumi_written_object_the_state_lacks_is_deleted_and_everything_else_survives() -> None:
    api = fake_api(
        {
            ("/apis/networking.k8s.io/v1/ingresses", "shop"): [
                item("web-1111aaaa", PULUMI),  # in the state
                item("web-9999ffff", PULUMI),  # the orphan: a pulumi run made it, the state lacks it
                item("by-hand", "kubectl-client-side-apply"),  # someone else's
                item("shared", "kubectl-edit", "traefik"),  # someone else's, edited by a controller
            ],
            ("/apis/apps/v1/deployments", "shop"): [item("web-2222bbbb", PULUMI)],  # in the state by id
            ("/api/v1/configmaps", "shop"): [item("kube-root-ca.crt", "kube-controller-manager")],
            ("/api/v1/services", "shop"): [item("web", "before-first-apply", PULUMI)],  # in the state
            ("/api/v1/secrets", "shop"): [item("gone-9999ffff", PULUMI, deletionTimestamp="now")],
            ("/apis/networking.k8s.io/v1/ingresses", "elsewhere"): [item("web-4444dddd", PULUMI)],
        }
    )
    said: list[str] = []
    removed = recovery.sweep_orphans(api, STATE, said.append)
    assert removed == ["Ingress shop/web-9999ffff"]
    assert api.deleted == ["/apis/networking.k8s.io/v1/namespaces/shop/ingresses/web-9999ffff"]
    assert said == [
        "hastack: removed the orphan Ingress shop/web-9999ffff from the cluster: a pulumi run "
        "created it, the state does not hold it"
    ]
    assert not [a for a in api.asked if "/namespaces/elsewhere/" in a], "a namespace not the stack's"


def test_the_namespaces_are_the_stacks_own_and_the_kinds_its_states_and_hastacks() -> None:
    assert recovery.stack_namespaces(STATE) == ["shop"]
    kinds = recovery.swept_kinds(STATE)
    assert ("gateway.networking.k8s.io/v1", "HTTPRoute") in kinds, "a kind only the state names"
    assert ("autoscaling/v2", "HorizontalPodAutoscaler") in kinds, "a kind only hastack creates"
    assert ("v1", "Namespace") not in kinds, "cluster-scoped: never swept"
    known = recovery.known_objects(STATE)
    assert ("Deployment", "shop", "web-2222bbbb") in known, "known by its id alone"
    assert ("Ingress", "shop", "web-1111aaaa") in known


def test_an_object_a_pending_operation_names_or_outside_the_stacks_namespaces_is_no_orphan() -> None:
    """A pending create's object is `remove_orphan`'s to delete (with its message); a pending update's
    is the state's."""
    state = {
        "deployment": {
            **STATE["deployment"],
            "pending_operations": [
                {"type": "updating", "resource": k8s("kubernetes:core/v1:ConfigMap", "shop/cfg-5555eeee")}
            ],
        }
    }
    listed = {
        ("v1", "ConfigMap", "shop"): [item("cfg-5555eeee", PULUMI), item("cfg-6666ffff", PULUMI)],
        ("v1", "ConfigMap", "elsewhere"): [item("cfg-7777aaaa", PULUMI)],  # not the stack's namespace
    }
    assert recovery.select_orphans(state, listed) == [("v1", "ConfigMap", "shop", "cfg-6666ffff")]


def test_a_stack_without_namespaces_of_its_own_sweeps_nothing() -> None:
    """A stack deploying into a namespace someone else made must not empty it."""
    state = {"deployment": {"resources": [k8s("kubernetes:core/v1:Service", "team/web")]}}
    api = fake_api({("/api/v1/services", "team"): [item("other-stack", PULUMI)]})
    assert recovery.sweep_orphans(api, state, print) == []
    assert api.asked == [] and api.deleted == []


@pytest.mark.parametrize(
    ("type_token", "expected"),
    [
        ("kubernetes:core/v1:Service", ("v1", "Service")),
        ("kubernetes:apps/v1:Deployment", ("apps/v1", "Deployment")),
        ("kubernetes:networking.k8s.io/v1:Ingress", ("networking.k8s.io/v1", "Ingress")),
        ("kubernetes:yaml/v2:ConfigGroup", None),
        ("kubernetes:helm.sh/v3:Release", None),
        ("pulumi:providers:kubernetes", None),
        ("random:index/randomPassword:RandomPassword", None),
    ],
)
def test_the_kind_of_a_type_token(type_token: str, expected: tuple[str, str] | None) -> None:
    assert recovery.object_kind(type_token) == expected


class CLI:
    """The pulumi CLI as `recover` calls it: records the commands, succeeds."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(
        self, args: list[str], env: Mapping[str, str], cwd: Path
    ) -> subprocess.CompletedProcess[str]:
        self.calls.append(args)
        return subprocess.CompletedProcess(args, 0, "", "")


@pytest.mark.parametrize(("orphan", "refreshed"), [(True, True), (False, False)])
def test_recover_sweeps_then_refreshes_only_when_it_removed_something(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, orphan: bool, refreshed: bool
) -> None:
    ingresses = [item("web-1111aaaa", PULUMI)] + ([item("web-9999ffff", PULUMI)] if orphan else [])
    api = fake_api({("/apis/networking.k8s.io/v1/ingresses", "shop"): ingresses})
    cli = CLI()
    monkeypatch.setattr(recovery, "cli", cli)
    monkeypatch.setattr(recovery, "export_state", lambda workspace, env: STATE)
    workspace = StackWorkspace("hastack", "dev", tmp_path, f"file://{tmp_path}/state")
    said: list[str] = []
    done = recovery.recover(workspace, {}, say=said.append, state=STATE, api=api)
    assert done.swept == (["Ingress shop/web-9999ffff"] if orphan else [])
    assert [c[0] for c in cli.calls] == (["refresh"] if refreshed else [])
    assert any("1 orphan(s) removed" in line for line in said) == refreshed


def test_an_api_server_that_stops_answering_mid_sweep_is_named() -> None:
    @dataclass(frozen=True)
    class Gone(FakeAPI):
        def get(self, path: str, timeout_s: float = 5.0, method: str = "GET") -> tuple[int, bytes]:
            raise kubeapi.UnreachableError(f"the API server {self.server} does not answer (refused)")

    api = Gone("https://127.0.0.1:1", "fake", Path("fake"), None, None, None, None)
    with pytest.raises(EngineError, match=r"could not sweep .* does not answer"):
        recovery.sweep_orphans(api, STATE, print)


def test_only_this_stacks_sidecars_cut_short_are_removed(tmp_path: Path) -> None:
    root = tmp_path / ".pulumi"
    files = {
        "stacks/hastack/dev.json.attrs": "",  # cut short: removed
        "stacks/hastack/dev.json.bak.attrs": '{"user.content_type": "application/json"}',
        "stacks/hastack/dev.pulumi-tags.attrs": '{"user.content_type": "app',  # cut short: removed
        "stacks/hastack/prod.json.attrs": "",  # another stack's: left
        "locks/organization/hastack/dev/1.json.attrs": "",  # removed
        "history/hastack/dev/dev-1.history.json.attrs": "{}",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    removed = recovery.repair_sidecars(f"file://{tmp_path}", "hastack", "dev")
    assert sorted(Path(p).relative_to(root).as_posix() for p in removed) == [
        "locks/organization/hastack/dev/1.json.attrs",
        "stacks/hastack/dev.json.attrs",
        "stacks/hastack/dev.pulumi-tags.attrs",
    ]
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*.attrs")) == [
        "history/hastack/dev/dev-1.history.json.attrs",
        "stacks/hastack/dev.json.bak.attrs",
        "stacks/hastack/prod.json.attrs",
    ]
    assert recovery.repair_sidecars("s3://bucket", "hastack", "dev") == []
