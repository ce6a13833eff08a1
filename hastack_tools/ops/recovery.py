"""What an interrupted or killed engine command leaves, found and cleared before the next one runs.

A CLI killed mid-`up` leaves three things: processes (its plugins), the backend's lock, and pending
operations in the checkpoint, among them creates whose objects may already exist in the cluster
(orphans: a rerun would create them a second time under new auto-names, 8 pods for 4). `recover`
stops the processes, removes a lock only when its owner is provably dead (same host, pid gone),
deletes each Kubernetes object a pending create made (the state never knew it; the next `up` creates
it again, once), clears the pending creates, sweeps for orphans (below), refreshes, and says what it
did.

A run whose checkpoint writes failed (the state store went away mid-update) leaves orphans no pending
operation names. `sweep_orphans` finds them: in the namespaces the stack's own state created, every
object of a kind the state (or hastack) deploys that the state does not hold and that a pulumi run
wrote (its managedFields manager is `pulumi-kubernetes-…`); what controllers, kubectl or other tools
made there is left alone.

Adopting the objects instead was tried: pulumi 3.274's `refresh --import-pending-creates` turns the
operations into pending imports that no step then performs, so the objects stayed orphans.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from hastack_tools.ops.kubeapi import KubeAPI, UnreachableError
from hastack_tools.ops.stacks import EngineError, StackWorkspace, cli, cli_error, export_state
from hastack_tools.ops.supervise import command_line, stop_session

CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "PriorityClass",
        "StorageClass",
        "PersistentVolume",
        "IngressClass",
        "GatewayClass",
        "ClusterIssuer",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "Node",
    }
)


PULUMI_MANAGER = "pulumi-kubernetes"
"""The prefix of the field manager the kubernetes provider writes objects with (one per resource)."""

HASTACK_KINDS = frozenset(
    {
        ("apps/v1", "Deployment"),
        ("autoscaling/v2", "HorizontalPodAutoscaler"),
        ("v1", "ConfigMap"),
        ("v1", "Secret"),
        ("v1", "Service"),
        ("v1", "ServiceAccount"),
        ("networking.k8s.io/v1", "Ingress"),
        ("networking.k8s.io/v1", "NetworkPolicy"),
        ("policy/v1", "PodDisruptionBudget"),
    }
)
"""The namespaced kinds hastack's components create: swept even when the state holds none of a kind
(a first `up` can die before its first object of a kind is recorded)."""

NOT_OBJECTS = ("kubernetes:yaml", "kubernetes:helm.sh", "kubernetes:kustomize")
"""Provider types that are groups of objects (or releases), not one object of a kind."""


@dataclass(frozen=True)
class BackendLock:
    path: str
    pid: int
    host: str
    user: str
    timestamp: str

    def owner_dead(self) -> bool:
        """Provably dead: it ran on this host and its pid runs no pulumi now."""
        if self.host != socket.gethostname():
            return False
        return "pulumi" not in command_line(self.pid) if Path(f"/proc/{self.pid}").exists() else True

    def describe(self) -> str:
        return f"{self.user}@{self.host} pid {self.pid} at {self.timestamp}"


def _lock_from(path: str, text: str) -> BackendLock:
    content = json.loads(text or "{}")
    return BackendLock(
        path=path,
        pid=int(content.get("pid") or 0),
        host=str(content.get("hostname") or "?"),
        user=str(content.get("username") or "?"),
        timestamp=str(content.get("timestamp") or "?"),
    )


def backend_locks(
    backend: str, project: str, stack: str, env: Mapping[str, str] | None = None
) -> list[BackendLock]:
    """The DIY backend's lock files of a stack (`.pulumi/locks/organization/<project>/<stack>/`);
    file:// and s3:// are read here (S3 with the credentials in `env`, as the CLI gets them), other
    backends manage their own locks (empty list)."""
    prefix = f".pulumi/locks/organization/{project}/{stack}/"
    parsed = urlparse(backend)
    if parsed.scheme == "file":
        folder = Path(parsed.path) / prefix
        return [_lock_from(str(p), p.read_text()) for p in sorted(folder.glob("*.json"))]
    if parsed.scheme == "s3":
        import boto3  # only for S3 backends

        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        env = os.environ if env is None else env
        client = boto3.session.Session(
            aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
            aws_session_token=env.get("AWS_SESSION_TOKEN"),
            profile_name=env.get("AWS_PROFILE"),
        ).client(
            "s3",
            endpoint_url=query.get("endpoint") and _with_scheme(query["endpoint"], query),
            region_name=query.get("region", env.get("AWS_REGION", "us-east-1")),
        )
        listed = client.list_objects_v2(Bucket=parsed.netloc, Prefix=prefix).get("Contents", [])
        return [
            _lock_from(
                f"s3://{parsed.netloc}/{o['Key']}",
                client.get_object(Bucket=parsed.netloc, Key=o["Key"])["Body"].read().decode(),
            )
            for o in listed
            if o["Key"].endswith(".json")
        ]
    return []


def _with_scheme(endpoint: str, query: Mapping[str, str]) -> str:
    if "://" in endpoint:
        return endpoint
    return ("http://" if query.get("disableSSL") == "true" else "https://") + endpoint


def kubernetes_id(resource: Mapping[str, Any]) -> str | None:
    """The provider ID a pending create of a Kubernetes object would have had (`ns/name` or `name`)."""
    kind_token = str(resource.get("type", ""))
    if not kind_token.startswith("kubernetes:") or kind_token.count(":") != 2:
        return None
    metadata = (resource.get("inputs") or {}).get("metadata") or {}
    name = metadata.get("name")
    if not name:
        return None
    kind = kind_token.rsplit(":", 1)[1]
    if kind in CLUSTER_SCOPED_KINDS:
        return str(name)
    return f"{metadata.get('namespace') or 'default'}/{name}"


def object_kind(type_token: str) -> tuple[str, str] | None:
    """(apiVersion, kind) of a provider type token: `kubernetes:apps/v1:Deployment` gives
    (`apps/v1`, `Deployment`), `kubernetes:core/v1:Service` (`v1`, `Service`)."""
    if not type_token.startswith("kubernetes:") or type_token.startswith(NOT_OBJECTS):
        return None
    parts = type_token.split(":")
    if len(parts) != 3 or "/" not in parts[1]:
        return None
    group, version = parts[1].split("/", 1)
    return (version if group == "core" else f"{group}/{version}"), parts[2]


def state_resources(state: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The checkpoint's resources and those its pending operations name."""
    deployment = state.get("deployment") or {}
    held = list(deployment.get("resources") or [])
    return held + [op.get("resource") or {} for op in deployment.get("pending_operations") or []]


def stack_namespaces(state: Mapping[str, Any]) -> list[str]:
    """The namespaces the stack's own state created (its Namespace resources)."""
    names = {
        str(((r.get("outputs") or r.get("inputs") or {}).get("metadata") or {}).get("name") or r.get("id"))
        for r in (state.get("deployment") or {}).get("resources") or []
        if r.get("type") == "kubernetes:core/v1:Namespace" and (r.get("id") or r.get("outputs"))
    }
    return sorted(names - {"None", ""})


def swept_kinds(state: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The namespaced kinds to look for orphans of: those of the state, and those hastack creates."""
    kinds = {object_kind(str(r.get("type", ""))) for r in state_resources(state)}
    kinds.discard(None)
    found = {k for k in kinds if k is not None and k[1] not in CLUSTER_SCOPED_KINDS}
    return sorted(found | HASTACK_KINDS)


def known_objects(state: Mapping[str, Any]) -> set[tuple[str, str, str]]:
    """(kind, namespace, name) of every object the state holds or a pending operation names; by kind
    and not apiVersion, as one object is served under several versions."""
    known = set()
    for resource in state_resources(state):
        kind = object_kind(str(resource.get("type", "")))
        if kind is None:
            continue
        for side in ("outputs", "inputs"):
            metadata = (resource.get(side) or {}).get("metadata") or {}
            if metadata.get("name"):
                known.add((kind[1], str(metadata.get("namespace") or "default"), str(metadata["name"])))
        namespace, _, name = str(resource.get("id") or "").rpartition("/")
        if name:
            known.add((kind[1], namespace or "default", name))
    return known


def pulumi_manager(item: Mapping[str, Any]) -> str | None:
    """The field manager of a pulumi run that wrote the object, or None when no pulumi run did."""
    for entry in (item.get("metadata") or {}).get("managedFields") or []:
        manager = str(entry.get("manager") or "")
        if manager.startswith(PULUMI_MANAGER):
            return manager
    return None


def select_orphans(
    state: Mapping[str, Any], listed: Mapping[tuple[str, str, str], list[dict[str, Any]]]
) -> list[tuple[str, str, str, str]]:
    """The objects to delete among `listed` ((apiVersion, kind, namespace) to the items the cluster
    answered): in a namespace of the stack, absent from the state, written by a pulumi run.
    Returns (apiVersion, kind, namespace, name) of each."""
    namespaces, known = set(stack_namespaces(state)), known_objects(state)
    orphans = []
    for (api_version, kind, namespace), items in sorted(listed.items()):
        if namespace not in namespaces:
            continue
        for item in items:
            metadata = item.get("metadata") or {}
            name = str(metadata.get("name") or "")
            if not name or (kind, namespace, name) in known or metadata.get("deletionTimestamp"):
                continue
            if pulumi_manager(item) is not None:
                orphans.append((api_version, kind, namespace, name))
    return orphans


def sweep_orphans(api: KubeAPI, state: Mapping[str, Any], say: Callable[[str], None]) -> list[str]:
    """Deletes the orphans `select_orphans` finds in the cluster; says and returns each one."""
    listed: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    try:
        for namespace in stack_namespaces(state):
            for api_version, kind in swept_kinds(state):
                items = api.list_namespaced(api_version, kind, namespace)
                if items is not None:
                    listed[(api_version, kind, namespace)] = items
        removed = []
        for api_version, kind, namespace, name in select_orphans(state, listed):
            if api.delete(api_version, kind, namespace, name):
                what = f"{kind} {namespace}/{name}"
                say(
                    f"hastack: removed the orphan {what} from the cluster: a pulumi run created it, "
                    "the state does not hold it"
                )
                removed.append(what)
    except UnreachableError as error:
        raise EngineError(f"could not sweep the stack's namespaces for orphans: {error}") from None
    return removed


@dataclass
class Recovery:
    stopped: list[str] = field(default_factory=list)
    locks_removed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    other_pending: list[str] = field(default_factory=list)
    swept: list[str] = field(default_factory=list)
    sidecars: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        said = [f"stopped a process the interrupted run left: {p}" for p in self.stopped]
        said += [sidecar_line(path) for path in self.sidecars]
        said += [f"removed the lock its dead owner left: {lock}" for lock in self.locks_removed]
        said += [
            f"removed {what} from the cluster: the interrupted run created it, the state never knew it "
            "(the next up creates it once)"
            for what in self.removed
        ]
        said += [
            f"cleared the pending create of {urn} (nothing of it exists outside the state)"
            for urn in self.cleared
        ]
        said += [
            f"refreshed {urn} (its {op} was interrupted)"
            for urn, op in (item.split(" ", 1) for item in self.other_pending)
        ]
        return said


def remove_orphan(api: KubeAPI, resource: Mapping[str, Any]) -> str | None:
    """Deletes the object a pending create of a Kubernetes resource made; what it removed, or None."""
    object_id = kubernetes_id(resource)
    inputs = resource.get("inputs") or {}
    if object_id is None or not inputs.get("apiVersion") or not inputs.get("kind"):
        return None
    namespace, _, name = object_id.rpartition("/")
    try:
        gone = api.delete(str(inputs["apiVersion"]), str(inputs["kind"]), namespace or None, name)
    except UnreachableError as error:
        raise EngineError(f"could not remove the orphan {inputs['kind']} {object_id}: {error}") from None
    return f"{inputs['kind']} {object_id}" if gone else None


def sidecar_line(path: str) -> str:
    return (
        f"removed the metadata file {path} a killed CLI left cut short (the blob it describes is intact; "
        "every backend read of it failed with EOF)"
    )


def repair_sidecars(backend: str, project: str, stack: str) -> list[str]:
    """The file backend writes each blob to a temporary file renamed into place, but its metadata
    sidecar (`<blob>.attrs`) in place: a CLI killed in between leaves the sidecar empty, and every read
    of the blob then fails (`failed to load checkpoint: EOF`, seen after a SIGKILL mid-`up`). Such a
    sidecar of this stack is removed (a blob without one reads with empty metadata); returns their paths."""
    parsed = urlparse(backend)
    if parsed.scheme != "file":
        return []
    root = Path(parsed.path) / ".pulumi"
    places = [
        (root / "stacks" / project, f"{stack}.*.attrs"),
        (root / "locks" / "organization" / project / stack, "*.attrs"),
        (root / "history" / project / stack, "*.attrs"),
    ]
    removed = []
    for folder, pattern in places:
        for path in sorted(folder.glob(pattern)):
            try:
                json.loads(path.read_text())
            except ValueError:
                path.unlink(missing_ok=True)
                removed.append(str(path))
    return removed


def pending_operations(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list((state.get("deployment") or {}).get("pending_operations") or [])


def recover(
    workspace: StackWorkspace,
    env: Mapping[str, str],
    *,
    dead_sid: int | None = None,
    say: Callable[[str], None] = print,
    state: Mapping[str, Any] | None = None,
    api: KubeAPI | None = None,
) -> Recovery:
    """Clears what a dead run left on this stack (see the module docstring). The caller holds the
    stack's run lock, so no engine command of ours is running on it."""
    done = Recovery()
    if dead_sid is not None:
        done.stopped = stop_session(dead_sid)
    done.sidecars = repair_sidecars(workspace.backend, workspace.project, workspace.stack)
    for lock in backend_locks(workspace.backend, workspace.project, workspace.stack, env):
        if lock.owner_dead():
            result = cli(["cancel", "--yes", "--stack", workspace.stack], env, workspace.folder)
            if result.returncode != 0:
                raise EngineError(f"could not remove the stale lock {lock.path}: {cli_error(result)}")
            done.locks_removed.append(f"{lock.path} ({lock.describe()})")
        else:
            raise EngineError(
                f"stack {workspace.stack} is locked by an update of {lock.describe()} ({lock.path}); "
                "if it runs, wait for it; if that machine or process is gone, remove the lock with "
                f"`make cancel STACK={workspace.stack} FORCE=1`"
            )
    state = export_state(workspace, env) if state is None else state
    pending = pending_operations(state)
    for op in pending:
        resource = op.get("resource") or {}
        urn = str(resource.get("urn"))
        if op.get("type") != "creating":
            done.other_pending.append(f"{urn} {op.get('type')}")
            continue
        removed = remove_orphan(api, resource) if api is not None else None
        if removed is not None:
            done.removed.append(removed)
        else:
            done.cleared.append(urn)
    if api is not None:
        done.swept = sweep_orphans(api, state, say)
    if pending or done.swept:
        say(
            f"hastack: {len(pending)} operation(s) of an interrupted run are pending, "
            f"{len(done.swept)} orphan(s) removed: refreshing the state from the cluster"
        )
        args = [
            "refresh",
            "--yes",
            "--skip-preview",
            "--non-interactive",
            "--stack",
            workspace.stack,
            "--config-file",
            str(workspace.config_file),
            "--clear-pending-creates",
        ]
        result = cli(args, env, workspace.folder)
        if result.returncode != 0:
            raise EngineError(f"pulumi refresh could not settle the pending operations: {cli_error(result)}")
        left = pending_operations(export_state(workspace, env))
        if left:
            raise EngineError(f"{len(left)} pending operation(s) remain after the refresh: {left[:3]}")
    for line in done.lines():
        say(f"hastack: {line}")
    return done
