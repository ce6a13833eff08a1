"""What an interrupted or killed engine command leaves, found and cleared before the next one runs.

A CLI killed mid-`up` leaves three things: processes (its plugins), the backend's lock, and pending
operations in the checkpoint, among them creates whose objects may already exist in the cluster
(orphans: a rerun would create them a second time under new auto-names, 8 pods for 4). `recover`
stops the processes, removes a lock only when its owner is provably dead (same host, pid gone),
deletes each Kubernetes object a pending create made (the state never knew it; the next `up` creates
it again, once), clears the pending creates, refreshes the rest, and says what it did.

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


@dataclass
class Recovery:
    stopped: list[str] = field(default_factory=list)
    locks_removed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    other_pending: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        said = [f"stopped a process the interrupted run left: {p}" for p in self.stopped]
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
    pending = pending_operations(export_state(workspace, env) if state is None else state)
    if pending:
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
        say(
            f"hastack: {len(pending)} operation(s) of an interrupted run are pending: "
            "refreshing to settle them"
        )
        result = cli(args, env, workspace.folder)
        if result.returncode != 0:
            raise EngineError(f"pulumi refresh could not settle the pending operations: {cli_error(result)}")
        left = pending_operations(export_state(workspace, env))
        if left:
            raise EngineError(f"{len(left)} pending operation(s) remain after the refresh: {left[:3]}")
    for line in done.lines():
        say(f"hastack: {line}")
    return done
