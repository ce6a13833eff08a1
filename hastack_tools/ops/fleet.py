"""`hastack fleet plan|up|status|drift|destroy`: many stacks on many clusters, rolled out in waves.

Waves run in order, a wave's stacks in parallel (bounded); each stack passes its wave's gates (the
policy pack on a preview, every Deployment Available, a no-change preview, a soak, requests through
the ingress during it) or the rollout halts, naming the stack, the gate and what it saw, and no later
stack is touched (`onFailure: rollback` first returns the failed wave to its last good commit).
Progress is written to `<workdir>/fleet/<name>/state.json` after every step, so `status` tells the
truth after a halt or a killed orchestrator and `up` resumes where the rollout stopped. The stacks run
on the Pulumi Automation API driving the same CLI, backend and passphrase as `make up` (engine.py),
with the same preparation: the named cluster started, the generated stack config, what a dead run
left settled.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import yaml
from pulumi import automation as auto

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.common.policy_config import stack_policy_config
from hastack_tools.common.project import read_project
from hastack_tools.ops import engine, fleet_traffic, kubeapi, recovery
from hastack_tools.ops.fleet_config import DEFAULT_FLEET, ErrorRate, FleetError, LoadedFleet, Target, load
from hastack_tools.ops.fleet_rollback import GoodRevisions, NoRevisionError, checked_out, revision_of
from hastack_tools.ops.stacks import (
    EngineError,
    StackWorkspace,
    backend_url,
    cli,
    cli_error,
    listed_stacks,
    prepare_stack,
    read_state,
    read_tags,
    set_tag,
    stack_exists,
)
from hastack_tools.ops.supervise import command_line

POLL_S = 2.0
"""How often the Available and soak gates look at the Deployments."""
RUN_MARK = "HASTACK_FLEET_RUN"
"""Set in the environment of every process a fleet stack run starts (CLI, plugins), so the next run
finds what a killed orchestrator left, whatever became of its parent."""
PASSED = "passed"
FAILED = "failed"
PENDING = "pending"
DESTROYED = "destroyed"
ROLLED_BACK = "rolled back"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class GateFailedError(RuntimeError):
    """A stack did not pass a gate: which one and what it saw."""

    def __init__(self, gate: str, saw: str) -> None:
        super().__init__(f"{gate}: {saw}")
        self.gate = gate
        self.saw = saw


# --- the durable progress record --------------------------------------------------------------------


@dataclass(frozen=True)
class FleetState:
    """`state.json` (the rollout's progress), read and rewritten under `state.lock`; `orchestrator.lock`
    is held by the running `up`/`destroy`, so a record that says running without it was interrupted."""

    folder: Path

    @property
    def file(self) -> Path:
        return self.folder / "state.json"

    def read(self) -> dict[str, Any]:
        try:
            loaded = json.loads(self.file.read_text())
        except (OSError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "state.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def update(self, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Applies `change` to the record and writes it atomically (fsync, rename)."""
        with self._locked():
            record = self.read()
            change(record)
            tmp = self.file.with_suffix(".tmp")
            with open(tmp, "w") as handle:
                handle.write(json.dumps(record, indent=1, sort_keys=True))
                handle.flush()
                os.fsync(handle.fileno())
            tmp.replace(self.file)
            return record

    def set_stack(self, name: str, **values: Any) -> None:
        def change(record: dict[str, Any]) -> None:
            record.setdefault("stacks", {}).setdefault(name, {}).update(values, updated=now())

        self.update(change)

    @contextlib.contextmanager
    def orchestrating(self) -> Iterator[None]:
        """Held by the one `up` or `destroy` of this fleet; a second one is refused, naming the first."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "orchestrator.lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise EngineError(
                    f"another fleet command runs on this fleet now (pid {self.read().get('pid', '?')}); "
                    "wait for it, or see `hastack fleet status`"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def orchestrator_alive(self) -> bool:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "orchestrator.lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False


# --- one stack through the Automation API -----------------------------------------------------------


def marked_processes(mark: str) -> list[int]:
    """Live processes whose environment carries `RUN_MARK=mark` (a dead run's CLI and plugins)."""
    needle = f"{RUN_MARK}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def stop_marked(mark: str, grace_s: float = 5.0) -> list[str]:
    """Stops what a dead stack run left (SIGTERM, then SIGKILL); returns what it stopped."""
    pids = marked_processes(mark)
    stopped = [f"{pid} {command_line(pid)[:100]}" for pid in pids]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and marked_processes(mark):
        time.sleep(0.1)
    for pid in marked_processes(mark):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return stopped


@dataclass
class StackRun:
    """One fleet stack, prepared as `make up` prepares it, with its Automation API stack."""

    target: Target
    workspace: StackWorkspace
    env: dict[str, str]
    api: kubeapi.KubeAPI
    stack: auto.Stack
    log: IO[bytes]
    refresh_first: bool
    """The cluster behind the target is a new one (engine.check_target): refresh before deploying."""
    identity: tuple[str, str | None]
    correct_drift: bool
    """`up` (and its policy preview) refresh first and apply with force, so what was edited out of
    band is put back (fleet file `correctDrift`)."""
    opened_state: Mapping[str, Any] = field(default_factory=dict)
    """The stack's state when it was opened (after settling), until the engine next runs on it."""
    tags: dict[str, str] = field(default_factory=dict)
    """The stack's tags when it was opened."""

    def say(self, line: str) -> None:
        engine.announce(line, self.log)

    def output(self, line: str) -> None:
        self.log.write(line.encode() + b"\n")
        self.log.flush()

    def scaled(self, command: str) -> None:
        """The engine's settings for large stacks (GOMEMLIMIT; preview skips checkpoints)."""
        _, extra = engine.scale_settings(command, [], self.env)
        self.stack.workspace.env_vars = {**self.env, **extra}

    @property
    def config_file(self) -> str:
        return str(self.workspace.config_file)

    def policy(self) -> tuple[list[str], list[str]]:
        """The pack and the config of the stack's environment, as `make preview` passes them."""
        config = stack_policy_config(self.target.program, self.target.name, None, REPO_ROOT / "policy")
        return [str(REPO_ROOT / "policy")], [str(config)]

    def engine_options(self, *, policy: bool = True, refresh: bool | None = None) -> dict[str, Any]:
        """What a preview or up of the stack passes the engine, as `make up` does: its config file, the
        environment's pack (unless `policy` is off), and a refresh first when the stack needs one or
        drift is corrected (`refresh` decides instead when given)."""
        options: dict[str, Any] = {
            "config_file": self.config_file,
            "parallel": engine.PARALLEL,
            "on_output": self.output,
            "color": "never",
            "refresh": (self.refresh_first or self.correct_drift if refresh is None else refresh) or None,
        }
        if policy:
            options["policy_packs"], options["policy_pack_configs"] = self.policy()
        return options

    def resources(self) -> list[dict[str, Any]]:
        """The resources of the stack's state now."""
        return list((read_state(self.workspace, self.env).get("deployment") or {}).get("resources") or [])

    def deployments(self, resources: list[dict[str, Any]] | None = None) -> list[tuple[str, str]]:
        """(namespace, name) of every Deployment the stack's state holds (`resources`: read already)."""
        found = []
        for resource in self.resources() if resources is None else resources:
            if resource.get("type") == DEPLOYMENT:
                meta = (resource.get("outputs") or {}).get("metadata") or {}
                found.append((str(meta.get("namespace") or "default"), str(meta.get("name"))))
        return found


def stack_env(
    target: Target, base_env: Mapping[str, str], cache: Path
) -> tuple[dict[str, str], StackWorkspace]:
    """The stack's environment (its cluster, the backend) and its workspace, as `make up` has them."""
    env = dict(base_env)
    if target.stack.cluster:
        env["HASTACK_CLUSTER"] = target.stack.cluster
        env["HASTACK_NODES"] = target.stack.nodes
    else:
        env["KUBECONFIG"] = str(target.kubeconfig)
    env["PULUMI_BACKEND_URL"] = backend_url(env, cache)
    project = str(read_project(target.program)["name"])
    return env, StackWorkspace(project, target.name, cache, env["PULUMI_BACKEND_URL"])


COMMANDS_LOCK = threading.Lock()


class FleetWorkspace(auto.LocalWorkspace):
    """The Automation API's workspace of one fleet stack, without two CLI starts per command the fleet
    has no use for: `select_stack` does nothing (the stack exists, `prepare_stack` saw to it, and every
    command names it with --stack; `pulumi stack select` would rewrite the workspace file all stacks of
    the project share), and `stack_outputs` reads nothing (up's result then carries no outputs: the
    fleet reads none, and reading them would decrypt the stack's secrets into this process)."""

    def select_stack(self, stack_name: str) -> None:
        return None

    def stack_outputs(self, stack_name: str) -> auto.OutputMap:
        return {}


@contextlib.contextmanager
def opened(
    target: Target,
    command: str,
    base_env: Mapping[str, str],
    cache: Path,
    log: IO[bytes],
    correct_drift: bool = True,
    exists: bool | None = None,
) -> Iterator[StackRun]:
    """Prepares `target` for `command` under the stack's run lock, as engine.py does for `make up`: the
    cluster started (or its kubeconfig checked), the stack and its generated config, what a dead run
    left settled, the deploy target checked; then the Automation API stack on the same CLI."""
    env, workspace = stack_env(target, base_env, cache)
    if correct_drift:
        env["PULUMI_K8S_ENABLE_PATCH_FORCE"] = "true"  # server-side apply takes the fields back
    kind = "local" if target.stack.cluster else "kubeconfig"

    def say(line: str) -> None:
        engine.announce(line, log)

    with workspace.record.held(f"fleet {command} of stack {target.name}", wait_s=30.0):
        dead = workspace.record.read()
        if dead is not None and dead.get("fleet_run"):
            for line in stop_marked(str(dead["fleet_run"])):
                say(f"hastack: stopped what the fleet run killed with pid {dead.get('pid')} left: {line}")
            dead = None
        api, extra = engine.connect(target.program, workspace, kind, env, log, say)
        assert api is not None  # a fleet stack always has a cluster
        created = prepare_stack(target.program, workspace, env, extra, exists)
        state = {} if created else engine.settle(workspace, env, dead, api, say)
        tags = {} if created else read_tags(workspace, env)
        wanted, uid, refresh = engine.check_target(workspace, env, kind, api, state, False, say, tags)
        mark = uuid.uuid4().hex
        record = {"pid": os.getpid(), "command": f"fleet {command}", "fleet_run": mark, "started": now()}
        workspace.record.file.write_text(json.dumps(record))
        env[RUN_MARK] = mark
        bin_folder = Path(env.get("HASTACK_TOOLCHAIN_BIN") or Path(env["HASTACK_CLI"].split()[0]).parent)
        folder = automation_project(target.program, workspace)
        ws = FleetWorkspace(work_dir=str(folder), pulumi_command=pulumi_command(bin_folder), env_vars=env)
        stack = auto.Stack.select(target.name, ws)
        try:
            yield StackRun(
                target, workspace, env, api, stack, log, refresh, (wanted, uid), correct_drift, state, tags
            )
        finally:
            workspace.record.clear()


COMMANDS_BY_ROOT: dict[Path, auto.PulumiCommand] = {}


def pulumi_command(bin_folder: Path) -> auto.PulumiCommand:
    """The Automation API's handle on the CLI in `bin_folder`, made once: making one runs `pulumi
    version`, a CLI start the stacks of a fleet need not each pay."""
    with COMMANDS_LOCK:
        if bin_folder not in COMMANDS_BY_ROOT:
            COMMANDS_BY_ROOT[bin_folder] = auto.PulumiCommand(
                root=str(bin_folder.parent), skip_version_check=True
            )
        return COMMANDS_BY_ROOT[bin_folder]


def automation_project(program: Path, workspace: StackWorkspace) -> Path:
    """The folder the Automation API runs a stack from: the stack's generated workspace, its Pulumi.yaml
    the program's with `main` pointing at the program. A CLI command that reads the stack's secrets
    writes the passphrase salt into the stack file of the folder it runs in: the generated copy, never
    the repo's (a rollback needs the repo clean to record its commit)."""
    project = dict(read_project(program))
    project["main"] = os.path.relpath(program / str(project.get("main") or "."), workspace.folder)
    runtime = project.get("runtime")
    options = dict(runtime.get("options") or {}) if isinstance(runtime, dict) else {}
    venv = options.get("virtualenv")
    if isinstance(runtime, dict) and isinstance(venv, str) and not os.path.isabs(venv):
        options["virtualenv"] = str(program / venv)  # the runtime reads it from the project's folder
        project["runtime"] = {**runtime, "options": options}
    workspace.folder.mkdir(parents=True, exist_ok=True)
    (workspace.folder / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    return workspace.folder


def engine_failure(error: auto.CommandError) -> str:
    """The last lines the CLI said about a failed command."""
    text = str(error)
    lines = [
        line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("code:")
    ]
    interesting = [line for line in lines if "error" in line.lower()] or lines
    return " | ".join(interesting[-3:])[:600]


def policy_violations(events: Sequence[auto.EngineEvent]) -> list[str]:
    found = []
    for event in events:
        policy = event.policy_event
        if policy is not None and policy.enforcement_level == "mandatory":
            parts = (policy.resource_urn or "").split("::")
            resource = f"{parts[-2].rsplit(':', 1)[-1]} {parts[-1]}" if len(parts) >= 2 else "the stack"
            # the engine's message is the rule's description, then the finding
            lines = [line.strip() for line in policy.message.strip().splitlines() if line.strip()]
            finding = " ".join(lines[1:] or lines)[:300]
            found.append(f"rule {policy.policy_name} on {resource}: {finding}")
    return found


def changed(events: Sequence[auto.EngineEvent]) -> list[str]:
    """`<op> <type> <name>: <fields>` for each resource a preview would change."""
    lines = []
    for event in events:
        pre = event.resource_pre_event
        if pre is None:
            continue
        meta = pre.metadata
        if meta.op in (auto.OpType.SAME, auto.OpType.READ, auto.OpType.REFRESH):
            continue
        fields = sorted((meta.detailed_diff or {}).keys()) or list(meta.diffs or [])
        name = meta.urn.rsplit("::", 1)[-1]
        lines.append(f"{meta.op.value} {meta.type} {name}" + (f": {', '.join(fields)}" if fields else ""))
    return lines


def gate_policy(run: StackRun) -> str:
    run.scaled("preview")
    events: list[auto.EngineEvent] = []
    try:
        result = run.stack.preview(on_event=events.append, **run.engine_options())
    except auto.CommandError as error:
        violations = policy_violations(events)
        if violations:
            raise GateFailedError("policy", "; ".join(violations)) from None
        raise GateFailedError("preview", engine_failure(error)) from None
    summary = {k.value if hasattr(k, "value") else str(k): v for k, v in result.change_summary.items()}
    return ", ".join(f"{v} {k}" for k, v in sorted(summary.items()))


def deploy(run: StackRun, *, policy: bool = True) -> None:
    run.scaled("up")
    try:
        run.stack.up(show_secrets=False, **run.engine_options(policy=policy))
    except auto.CommandError as error:
        engine.settle_failed_up(run.workspace, run.env, run.api, run.say)  # what its state lacks
        raise GateFailedError("up", engine_failure(error)) from None
    wanted = {"hastack:target": run.identity[0], "hastack:cluster-uid": run.identity[1]}
    for name, value in wanted.items():
        if value and run.tags.get(name) != value:  # a CLI start per tag: only the ones that change
            set_tag(run.workspace, run.env, name, value)
            run.tags[name] = value


NAMESPACE = "kubernetes:core/v1:Namespace"
WAVE_AT_ONCE = 32
"""Stacks of a wave a destroy opens at once (their namespaces deleted together); the engine's part
still runs `parallelism` at a time."""
NAMESPACE_GONE_S = 600
"""How long a destroy waits for the namespaces it deleted first to be gone before the engine runs."""


def owned_namespaces(resources: Sequence[Mapping[str, Any]]) -> list[str]:
    """The Namespaces the stack's state created, which `destroy` deletes with all they hold anyway; none
    when a resource of the state must outlive the destroy (retainOnDelete) or refuses it (protect)."""
    if any(r.get("retainOnDelete") or r.get("protect") for r in resources):
        return []
    return [
        str(((r.get("outputs") or {}).get("metadata") or {}).get("name"))
        for r in resources
        if r.get("type") == NAMESPACE and r.get("custom") and not r.get("external")
    ]


def clear_namespaces(
    api: kubeapi.KubeAPI, names: Sequence[str], timeout_s: float | None = None
) -> tuple[list[str], list[str]]:
    """Deletes the namespaces at once and waits until they are gone: the cluster empties them in parallel
    (as a namespace delete does) where the engine would delete and await each object in turn. Returns
    (those it deleted, those still there at the timeout: the engine then does it all)."""
    deleted = [name for name in names if api.delete("v1", "Namespace", None, name)]
    deadline = time.monotonic() + (NAMESPACE_GONE_S if timeout_s is None else timeout_s)
    waiting = list(deleted)
    while waiting and time.monotonic() < deadline:
        waiting = [name for name in waiting if api.get(f"/api/v1/namespaces/{name}")[0] != 404]
        if waiting:
            time.sleep(0.5)
    return deleted, waiting


STATE_ONLY = ("random:", "tls:")
"""Packages whose resources live in the state alone (generated values and keys): nothing to delete."""


def outlived(resources: Sequence[Mapping[str, Any]], gone: Sequence[str]) -> list[str]:
    """`<type> <name>` of each resource of the state that deleting the namespaces `gone` does not take
    with it: anything but the Namespaces themselves, Kubernetes objects inside them, providers and
    other engine bookkeeping (`pulumi:`), reads, components, and what lives in the state alone."""
    left = []
    for resource in resources:
        token = str(resource.get("type", ""))
        if (
            not resource.get("custom")
            or resource.get("external")
            or token.startswith(("pulumi:", *STATE_ONLY))
        ):
            continue
        meta = (resource.get("outputs") or {}).get("metadata") or {}
        if recovery.object_kind(token) is not None and (
            meta.get("namespace") in gone or (token == NAMESPACE and meta.get("name") in gone)
        ):
            continue
        left.append(f"{token} {str(resource.get('urn') or '').rsplit('::', 1)[-1] or meta.get('name')}")
    return left


def forget_all(run: StackRun) -> None:
    """Empties the stack's state (`pulumi state delete --all`): for a destroy whose every object the
    cluster already deleted with its namespaces, what the engine's deletes would have recorded."""
    done = cli(
        ["state", "delete", "--all", "--yes", "--stack", run.target.name], run.env, run.workspace.folder
    )
    if done.returncode != 0:
        raise EngineError(f"pulumi state delete --all of {run.target.name} failed: {cli_error(done)}")


def unavailable(api: kubeapi.KubeAPI, deployments: Sequence[tuple[str, str]]) -> list[str]:
    """What keeps each Deployment that is not fully Available from being so (empty: all are)."""
    problems = []
    for namespace, name in deployments:
        status_code, body = api.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
        if status_code != 200:
            problems.append(f"Deployment {namespace}/{name}: HTTP {status_code} (gone?)")
            continue
        live = json.loads(body)
        spec, status = live.get("spec") or {}, live.get("status") or {}
        want = int(spec.get("replicas", 1))
        available = int(status.get("availableReplicas") or 0)
        updated = int(status.get("updatedReplicas") or 0)
        current = int(status.get("observedGeneration") or 0) >= int(live["metadata"].get("generation", 0))
        if current and available >= want and updated >= want:
            continue
        conditions = {c.get("type"): c for c in status.get("conditions") or []}
        cond = conditions.get("Available") or {}
        why = f"Available={cond.get('status', '?')} ({cond.get('reason', 'no condition yet')})"
        problems.append(
            f"Deployment {namespace}/{name}: {available}/{want} available, {updated} updated, {why}"
            + pending_reason(api, namespace, spec)
        )
    return problems


def pending_reason(api: kubeapi.KubeAPI, namespace: str, spec: Mapping[str, Any]) -> str:
    """Why a pod of the Deployment is not scheduled, when the scheduler said."""
    labels = (spec.get("selector") or {}).get("matchLabels") or {}
    selector = ",".join(f"{k}={v}" for k, v in labels.items())
    status_code, body = api.get(f"/api/v1/namespaces/{namespace}/pods?labelSelector={selector}")
    if status_code != 200:
        return ""
    for pod in json.loads(body).get("items") or []:
        for condition in (pod.get("status") or {}).get("conditions") or []:
            if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
                return f"; pod {pod['metadata']['name']}: {condition.get('message', condition.get('reason'))}"
    return ""


def gate_available(run: StackRun, timeout_s: float) -> int:
    deployments = run.deployments()
    deadline = time.monotonic() + timeout_s
    while True:
        problems = unavailable(run.api, deployments)
        if not problems:
            return len(deployments)
        if time.monotonic() >= deadline:
            raise GateFailedError(
                "available", f"not Available within {timeout_s:.0f} s: " + "; ".join(problems)
            )
        time.sleep(POLL_S)


def gate_no_change(run: StackRun) -> None:
    run.scaled("preview")
    events: list[auto.EngineEvent] = []
    try:
        run.stack.preview(
            on_event=events.append, expect_no_changes=True, **run.engine_options(policy=False, refresh=False)
        )
    except auto.CommandError as error:
        lines = changed(events)
        raise GateFailedError(
            "no-change preview", "; ".join(lines) if lines else engine_failure(error)
        ) from None


def gate_soak(run: StackRun, seconds: float, error_rate: ErrorRate | None = None) -> str | None:
    """The stack's Deployments stay Available for `seconds`; with `error_rate`, requests flow through its
    Ingress hosts meanwhile and their failed share is judged. Returns the traffic verdict's line."""
    resources = run.resources()
    deployments = run.deployments(resources)
    load = None
    if error_rate is not None:
        try:
            targets = fleet_traffic.soak_targets(engine.local_cluster_run(run.env), resources, run.env)
        except fleet_traffic.NoTrafficError as error:
            raise GateFailedError("error rate", str(error)) from None
        silent = fleet_traffic.first_answers(targets)
        if silent:
            raise GateFailedError("error rate", "; ".join(silent))
        load = fleet_traffic.SoakLoad(targets, seconds, error_rate.requests_per_second).start()
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            problems = unavailable(run.api, deployments)
            if problems:
                raise GateFailedError("soak", f"{seconds:.0f} s soak: " + "; ".join(problems))
            time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
    except BaseException:
        if load is not None:
            load.finish(early=True)
        raise
    if error_rate is None or load is None:
        return None
    ok, line = fleet_traffic.judge(load.finish(), error_rate.max_percent)
    if not ok:
        raise GateFailedError("error rate", f"{seconds:.0f} s soak: {line}")
    return line


def error_rate_text(error_rate: ErrorRate | None) -> str:
    if error_rate is None:
        return ""
    return (
        f", error rate <= {error_rate.max_percent:g}% at {error_rate.requests_per_second:g} req/s "
        "per Ingress host during the soak"
    )


# --- the fleet --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """A stack not previewed: its program reads stacks not deployed yet (stack references), and a
    preview of it would fail on them until their wave has run."""

    stacks: tuple[str, ...]

    def __str__(self) -> str:
        return f"not previewed: it reads {', '.join(self.stacks)}, not deployed yet (earlier waves of `up`)"


@dataclass
class Orchestrator:
    fleet: LoadedFleet
    workdir: Path | None = None
    toolchain: str = "auto"
    out: Callable[[str], None] = print
    _env: dict[str, str] | None = None
    engine_slots: threading.BoundedSemaphore = field(default_factory=lambda: threading.BoundedSemaphore(1))
    """Engine runs allowed at once in the wave that runs (its parallelism)."""

    @property
    def folder(self) -> Path:
        return self.cache / "fleet" / self.fleet.spec.name

    @property
    def state(self) -> FleetState:
        return FleetState(self.folder)

    @property
    def env(self) -> dict[str, str]:
        if self._env is None:
            kinds = {"local" if t.stack.cluster else "kubeconfig" for t in self.fleet.targets.values()}
            with open(self.log_of("toolchain"), "ab") as log:
                target = "kubeconfig" if "kubeconfig" in kinds else "local"
                self._env = engine.command_env(target, self.toolchain, log=log)
            self._env.setdefault("PULUMI_CONFIG_PASSPHRASE", engine.LOCAL_PASSPHRASE)
        return self._env

    @property
    def cache(self) -> Path:
        if self.workdir is not None:
            return self.workdir
        default = Path.home() / ".cache" / "hastack"
        return Path(os.environ.get("HASTACK_WORKDIR") or os.environ.get("HASTACK_CACHE") or default)

    def log_of(self, name: str) -> Path:
        logs = self.folder / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        return logs / f"{name}.log"

    def _each_wave(
        self,
        waves: Sequence[int],
        work: Callable[[Target, threading.Event], bool],
        todo: Callable[[Target], bool],
        whole_wave: bool = False,
    ) -> int | None:
        """Runs `work` on each wave's stacks (those `todo` keeps), in parallel up to the wave's
        parallelism (`whole_wave`: up to WAVE_AT_ONCE, the engine's part of each bounded by
        `engine_slots`); returns the index of the first wave where one failed (None: all passed)."""
        for index in waves:
            wave = self.fleet.spec.waves[index]
            targets = [t for t in self.fleet.wave_targets(index) if todo(t)]
            if not targets:
                self.out(f"wave {wave.name}: nothing to do")
                continue
            self.out(
                f"wave {wave.name}: {', '.join(t.name for t in targets)} (parallelism {wave.parallelism})"
            )
            halt = threading.Event()
            self.engine_slots = threading.BoundedSemaphore(wave.parallelism)
            workers = min(len(targets), WAVE_AT_ONCE) if whole_wave else wave.parallelism
            with ThreadPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(work, targets, [halt] * len(targets)))
            if not all(results):
                return index
        return None

    # up -----------------------------------------------------------------------------------------------

    def up(self, restart: bool = False) -> int:
        with self.state.orchestrating():
            record = self.state.read()
            resume = (
                not restart
                and record.get("command") == "up"
                and record.get("result") in ("running", "halted")
                and record.get("file") == str(self.fleet.path)
            )
            if resume:
                how = "halted" if record.get("result") == "halted" else "interrupted"
                where = self.describe_stop(record)
                self.out(f"hastack fleet: resuming rollout {record.get('rollout')} ({how}: {where})")
            else:
                record = self.new_record("up")
            self.state.update(
                lambda r: r.update(
                    result="running", pid=os.getpid(), halt=None, resumed=now() if resume else None
                )
            )
            done = {n for n, s in (record.get("stacks") or {}).items() if s.get("phase") == PASSED}
            failed_at = self._each_wave(
                range(len(self.fleet.spec.waves)), self.up_stack, lambda t: t.name not in done
            )
            if failed_at is None:
                self.state.update(lambda r: r.update(result=PASSED, finished=now()))
                self.out(f"hastack fleet: rollout passed: {len(self.fleet.targets)} stack(s) in every gate")
                return 0
            if self.fleet.spec.on_failure == "rollback":
                self.rollback_wave(failed_at)
            final = self.state.update(lambda r: r.update(result="halted", finished=now()))
            self.out(f"hastack fleet: HALTED: {self.describe_stop(final)}")
            later = [w.name for w in self.fleet.spec.waves[failed_at + 1 :]]
            if later:
                self.out(f"hastack fleet: later waves not started: {', '.join(later)}")
            return 1

    def new_record(self, command: str) -> dict[str, Any]:
        rollout = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:6]
        stacks = {
            name: {"wave": t.wave, "phase": PENDING, "where": t.where, "updated": now()}
            for name, t in self.fleet.targets.items()
        }
        record = {
            "fleet": self.fleet.spec.name,
            "file": str(self.fleet.path),
            "command": command,
            "rollout": rollout,
            "started": now(),
            "stacks": stacks,
            "result": "running",
            "pid": os.getpid(),
        }

        def replace(previous: dict[str, Any]) -> None:
            previous.clear()
            previous.update(record)

        self.state.update(replace)
        return record

    def up_stack(self, target: Target, halt: threading.Event) -> bool:
        if halt.is_set():
            self.out(f"  {target.name}: not started (the wave halted)")
            return True  # untouched; the wave's failure is reported by the stack that failed
        gates = self.fleet.spec.waves[target.wave].gates
        phase = self.state.set_stack
        started = time.monotonic()
        with open(self.log_of(target.name), "ab") as log:
            try:
                phase(
                    target.name,
                    phase="preparing",
                    gate=None,
                    saw=None,
                    traffic=None,
                    rollback=None,
                    deployed=False,
                    log=str(log.name),
                )
                with opened(target, "up", self.env, self.cache, log, self.fleet.spec.correct_drift) as run:
                    if gates.policy:
                        phase(target.name, phase="policy")
                        changes = gate_policy(run)
                        self.out(f"  {target.name}: policy gate passed (preview: {changes or 'no change'})")
                    phase(target.name, phase="up", deployed=True)
                    deploy(run)
                    phase(target.name, phase="available")
                    count = gate_available(run, gates.available_timeout_seconds)
                    self.out(f"  {target.name}: up; {count} Deployment(s) Available")
                    if gates.no_change_preview:
                        phase(target.name, phase="no-change preview")
                        gate_no_change(run)
                    if gates.soak_seconds:
                        phase(target.name, phase="soak")
                        traffic = gate_soak(run, gates.soak_seconds, gates.error_rate)
                        if traffic is not None:
                            phase(target.name, traffic=traffic)
                            self.out(f"  {target.name}: error-rate gate passed: {traffic}")
            except GateFailedError as failure:
                halt.set()
                phase(target.name, phase=FAILED, gate=failure.gate, saw=failure.saw)
                self.out(f"  {target.name}: FAILED gate {failure.gate}: {failure.saw}")
                return False
            except (EngineError, FleetError, kubeapi.UnreachableError, auto.CommandError) as error:
                halt.set()
                phase(target.name, phase=FAILED, gate="prepare", saw=str(error)[:600])
                self.out(f"  {target.name}: FAILED before deploying: {error}")
                return False
        seconds = time.monotonic() - started
        phase(
            target.name,
            phase=PASSED,
            gate=None,
            saw=None,
            seconds=round(seconds, 1),
            revision=self.remember(target),
        )
        self.out(f"  {target.name}: passed every gate ({seconds:.0f} s; log {self.log_of(target.name)})")
        return True

    # rollback -------------------------------------------------------------------------------------------

    @property
    def good(self) -> GoodRevisions:
        return GoodRevisions(self.folder)

    def remember(self, target: Target) -> str:
        """Records the commit the stack just passed at (what a later rollback returns to); says which."""
        try:
            revision = revision_of(target.program)
        except NoRevisionError as error:
            return f"none recorded: {error}"
        self.good.remember(target.name, revision, str(self.state.read().get("rollout")))
        return revision.short

    def rollback_wave(self, index: int) -> None:
        """Every stack of the failed wave that this rollout deployed goes back to its last good commit."""
        stacks = self.state.read().get("stacks") or {}
        wave = self.fleet.spec.waves[index]
        touched = [t for t in self.fleet.wave_targets(index) if (stacks.get(t.name) or {}).get("deployed")]
        if not touched:
            self.out(f"wave {wave.name}: nothing to roll back (no stack of it was deployed)")
            return
        self.out(f"wave {wave.name}: rolling back {', '.join(t.name for t in touched)}")
        for target in touched:
            self.state.set_stack(target.name, rollback=self.rollback_stack(target))

    def rollback_stack(self, target: Target) -> str:
        """An `up` of the stack's last good commit (no policy preview: it passed every gate there), then
        the Available gate; returns what happened, for the progress record."""
        good = self.good.get(target.name)
        if good is None:
            said = (
                "not rolled back: no commit recorded where it passed (its first rollout, or an unclean tree)"
            )
            self.out(f"  {target.name}: {said}")
            return said
        try:
            if revision_of(target.program).commit == good.commit:
                said = f"not rolled back: it failed at {good.short}, the commit it last passed at"
                self.out(f"  {target.name}: {said}")
                return said
        except NoRevisionError:
            pass  # uncommitted edits failed: the good commit is still the way back
        gates = self.fleet.spec.waves[target.wave].gates
        started = time.monotonic()
        with open(self.log_of(target.name), "ab") as log:
            try:
                into = self.folder / "rollback" / target.name
                with checked_out(good, into, target.program) as program:
                    back = replace(target, program=program)
                    with opened(
                        back, "rollback", self.env, self.cache, log, self.fleet.spec.correct_drift
                    ) as run:
                        deploy(run, policy=False)
                        count = gate_available(run, gates.available_timeout_seconds)
            except GateFailedError as failure:
                said = f"rollback to {good.short} failed at gate {failure.gate}: {failure.saw}"
            except (NoRevisionError, EngineError, FleetError, kubeapi.UnreachableError) as error:
                said = f"rollback to {good.short} failed: {error}"
            except auto.CommandError as error:
                said = f"rollback to {good.short} failed at up: {engine_failure(error)}"
            else:
                seconds = time.monotonic() - started
                said = f"rolled back to {good.short} ({count} Deployment(s) Available, {seconds:.0f} s)"
                if self.state.read().get("stacks", {}).get(target.name, {}).get("phase") == PASSED:
                    self.state.set_stack(target.name, phase=ROLLED_BACK)  # deployed again on resume
        self.out(f"  {target.name}: {said}")
        return said

    # destroy --------------------------------------------------------------------------------------------

    def destroy(self) -> int:
        with self.state.orchestrating():
            self.new_record("destroy")
            failed_at = self._each_wave(
                self.fleet.destroy_waves(), self.destroy_stack, lambda _t: True, whole_wave=True
            )
            result = PASSED if failed_at is None else "halted"
            final = self.state.update(lambda r: r.update(result=result, finished=now()))
            if failed_at is None:
                self.out("hastack fleet: destroyed every stack, last wave first")
                return 0
            self.out(f"hastack fleet: destroy HALTED: {self.describe_stop(final)}")
            return 1

    def destroy_stack(self, target: Target, halt: threading.Event) -> bool:
        if halt.is_set():
            return True
        env, workspace = stack_env(target, self.env, self.cache)
        workspace.folder.mkdir(parents=True, exist_ok=True)
        (workspace.folder / "Pulumi.yaml").write_text((target.program / "Pulumi.yaml").read_text())
        if not stack_exists(workspace, env):
            self.state.set_stack(target.name, phase=DESTROYED, gate=None, saw=None)
            self.out(f"  {target.name}: never deployed, nothing to destroy")
            return True
        with open(self.log_of(target.name), "ab") as log:
            try:
                self.state.set_stack(target.name, phase="destroying")
                with opened(
                    target, "destroy", self.env, self.cache, log, self.fleet.spec.correct_drift, exists=True
                ) as run:
                    self.destroy_opened(run)
            except (EngineError, kubeapi.UnreachableError, auto.CommandError) as error:
                halt.set()
                saw = engine_failure(error) if isinstance(error, auto.CommandError) else str(error)
                self.state.set_stack(target.name, phase=FAILED, gate="destroy", saw=saw)
                self.out(f"  {target.name}: destroy FAILED: {saw}")
                return False
        self.state.set_stack(target.name, phase=DESTROYED, gate=None, saw=None)
        self.out(f"  {target.name}: destroyed")
        return True

    def destroy_opened(self, run: StackRun) -> None:
        """The namespaces the stack made deleted first (all the wave's at once: the cluster empties them
        in parallel); then, when they took every object of the state with them, the state emptied, else
        the engine's destroy (its deletes of what is gone find nothing), `parallelism` at a time."""
        resources = recovery.state_resources(run.opened_state)
        namespaces = owned_namespaces(resources)
        cleared, stuck = clear_namespaces(run.api, namespaces)
        if cleared:
            run.say(f"deleted namespace(s) {', '.join(cleared)} first")
        left = outlived(resources, namespaces)
        pending = recovery.pending_operations(run.opened_state)
        with self.engine_slots:
            if namespaces and not stuck and not left and not pending:
                forget_all(run)
                run.say(
                    f"emptied the state ({len(resources)} resource(s)): the namespaces that held its "
                    "objects are gone, the rest lived in the state alone"
                )
                return
            why = (
                f"{len(pending)} operation(s) pending"
                if pending
                else f"namespace(s) {', '.join(stuck)} still there"
                if stuck
                else f"{len(left)} resource(s) outside its namespaces ({', '.join(left[:3])})"
                if left
                else "no namespace of its own"
            )
            run.say(f"destroying through the engine: {why}")
            run.scaled("destroy")
            run.stack.destroy(
                show_secrets=False,
                config_file=run.config_file,
                parallel=engine.PARALLEL,
                on_output=run.output,
                color="never",
            )

    # plan and drift -----------------------------------------------------------------------------------

    def previews(self, refresh: bool) -> dict[str, list[str] | str | Waiting]:
        """Per stack, what a preview would change (a string: why the preview failed; Waiting: the
        stacks it references are not deployed)."""
        found: dict[str, list[str] | str | Waiting] = {}

        def one(target: Target, _halt: threading.Event) -> bool:
            with open(self.log_of(target.name), "ab") as log:
                try:
                    waiting = self.not_deployed(target)
                    if waiting:  # its program would fail to read them
                        found[target.name] = Waiting(tuple(waiting))
                        return True
                    with opened(
                        target,
                        "drift" if refresh else "plan",
                        self.env,
                        self.cache,
                        log,
                        self.fleet.spec.correct_drift,
                    ) as run:
                        run.scaled("preview")
                        events: list[auto.EngineEvent] = []
                        try:
                            run.stack.preview(
                                on_event=events.append,
                                diff=True,
                                **run.engine_options(
                                    policy=not refresh, refresh=bool(refresh or run.refresh_first)
                                ),
                            )
                            found[target.name] = changed(events)
                        except auto.CommandError as error:
                            violations = policy_violations(events)
                            found[target.name] = (
                                "policy: " + "; ".join(violations) if violations else engine_failure(error)
                            )
                except (EngineError, kubeapi.UnreachableError) as error:
                    found[target.name] = str(error)
            return True

        self._each_wave(range(len(self.fleet.spec.waves)), one, lambda _t: True)
        return found

    def not_deployed(self, target: Target) -> list[str]:
        """The stacks `target` references that the backend holds no deployment of (yet)."""
        if not target.uses:
            return []
        env, workspace = stack_env(target, self.env, self.cache)
        workspace.folder.mkdir(parents=True, exist_ok=True)
        (workspace.folder / "Pulumi.yaml").write_text((target.program / "Pulumi.yaml").read_text())
        listed = listed_stacks(workspace, env)
        used = dict.fromkeys(r.stack for r in target.uses)
        return [u for u in used if not int((listed.get(u) or {}).get("resourceCount") or 0)]

    def plan(self) -> int:
        found = self.previews(refresh=False)
        failed = False
        self.out(f"plan of fleet {self.fleet.spec.name} ({self.fleet.path}):")
        for index, wave in enumerate(self.fleet.spec.waves):
            gates = wave.gates
            self.out(
                f"wave {index + 1} {wave.name} (parallelism {wave.parallelism}; gates: "
                f"{'policy, ' if gates.policy else ''}available within {gates.available_timeout_seconds} s"
                f"{', no-change preview' if gates.no_change_preview else ''}"
                f"{f', soak {gates.soak_seconds} s' if gates.soak_seconds else ''}"
                f"{error_rate_text(gates.error_rate)})"
            )
            for target in self.fleet.wave_targets(index):
                result = found.get(target.name, "not previewed")
                uses = self.fleet.references(target.name)
                if uses:
                    self.out(f"  {target.name} references {uses}")
                if isinstance(result, Waiting):
                    self.out(f"  {target.name} on {target.where}: {result}")
                    continue
                if isinstance(result, str):
                    failed = True
                    self.out(f"  {target.name} on {target.where}: cannot preview: {result}")
                    continue
                self.out(f"  {target.name} on {target.where}: {len(result)} change(s)")
                for line in result:
                    self.out(f"    {line}")
        return 2 if failed else 0

    def drift(self) -> int:
        found = self.previews(refresh=True)
        drifted = errors = 0
        for name in self.fleet.targets:
            result = found.get(name, "not checked")
            if isinstance(result, Waiting):
                self.out(f"{name}: drift not checked: {result}")
            elif isinstance(result, str):
                errors += 1
                self.out(f"{name}: drift not checked: {result}")
            elif result:
                drifted += 1
                self.out(f"{name}: DRIFT, {len(result)} object(s) differ from the program:")
                for line in result:
                    self.out(f"  {line}")
            else:
                self.out(f"{name}: no drift")
        if errors:
            return 2
        return 1 if drifted else 0

    # status -------------------------------------------------------------------------------------------

    def describe_stop(self, record: Mapping[str, Any]) -> str:
        stacks = record.get("stacks") or {}
        failed = [(n, s) for n, s in stacks.items() if s.get("phase") == FAILED]
        if failed:
            return "; ".join(
                f"stack {n} (wave {self.wave_name(s)}, {s.get('where')}) failed gate {s.get('gate')}: "
                f"{s.get('saw')}" + (f"; {s['rollback']}" if s.get("rollback") else "")
                for n, s in failed
            )
        busy = [
            (n, s)
            for n, s in stacks.items()
            if s.get("phase") not in (PASSED, PENDING, FAILED, DESTROYED, ROLLED_BACK)
        ]
        if busy:
            return "; ".join(
                f"stack {n} (wave {self.wave_name(s)}) was in phase {s.get('phase')!r}" for n, s in busy
            )
        return "stopped between stacks"

    def wave_name(self, stack: Mapping[str, Any]) -> str:
        index = stack.get("wave")
        waves = self.fleet.spec.waves
        return waves[index].name if isinstance(index, int) and index < len(waves) else "?"

    def status(self, as_json: bool = False) -> int:
        record = self.state.read()
        if not record:
            self.out(f"fleet {self.fleet.spec.name}: never rolled out (no {self.state.file})")
            return 0
        alive = self.state.orchestrator_alive()
        result = str(record.get("result"))
        if result == "running" and not alive:
            result = "interrupted"
        if as_json:
            self.out(json.dumps({**record, "result": result, "orchestrator_alive": alive}, indent=1))
            return 0 if result in (PASSED, "running") else 1
        what = f"{record.get('command')} {record.get('rollout')}"
        if result == "running":
            head = f"running (orchestrator pid {record.get('pid')})"
        elif result == "interrupted":
            head = (
                f"INTERRUPTED: the orchestrator (pid {record.get('pid')}) is gone; "
                f"{self.describe_stop(record)}; `hastack fleet {record.get('command')}` resumes"
            )
        elif result == "halted":
            head = f"HALTED: {self.describe_stop(record)}"
        else:
            head = f"{result} at {record.get('finished')}"
        self.out(f"fleet {self.fleet.spec.name}, {what}: {head}")
        stacks = record.get("stacks") or {}
        for index, wave in enumerate(self.fleet.spec.waves):
            phases = [stacks.get(n, {}).get("phase", PENDING) for n in wave.stacks]
            summary = (
                PASSED
                if all(p == PASSED for p in phases)
                else "not started"
                if all(p == PENDING for p in phases)
                else ", ".join(sorted(set(phases)))
            )
            self.out(f"wave {index + 1} {wave.name}: {summary}")
            for name in wave.stacks:
                stack = stacks.get(name, {})
                line = f"  {name} on {self.fleet.targets[name].where}: {stack.get('phase', PENDING)}"
                if stack.get("gate"):
                    line += f" at gate {stack['gate']}: {stack.get('saw')}"
                if stack.get("seconds") is not None and stack.get("phase") == PASSED:
                    line += f" ({stack['seconds']} s)"
                if stack.get("traffic") and stack.get("phase") == PASSED:
                    line += f"; error rate {stack['traffic']}"
                if stack.get("rollback"):
                    line += f"; {stack['rollback']}"
                if self.fleet.references(name):
                    line += f"; references {self.fleet.references(name)}"
                line += f" (since {stack.get('updated')})"
                self.out(line)
        return 0 if result in (PASSED, "running") else 1


COMMANDS = ("plan", "up", "status", "drift", "destroy")


def main(argv: Sequence[str] | None = None, prog: str = "hastack fleet") -> int:
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument(
        "--fleet",
        type=Path,
        default=Path(os.environ.get("FLEET") or DEFAULT_FLEET),
        help=f"the fleet file (default: {DEFAULT_FLEET.name} at the repo root)",
    )
    parser.add_argument("--workdir", type=Path, default=os.environ.get("HASTACK_WORKDIR") or None)
    parser.add_argument("--toolchain", default=os.environ.get("TOOLCHAIN") or "auto")
    parser.add_argument("--restart", action="store_true", help="up: start a new rollout instead of resuming")
    parser.add_argument("--json", action="store_true", help="status: the progress record as JSON")
    args = parser.parse_args(argv)
    try:
        fleet = load(args.fleet)
        orchestrator = Orchestrator(fleet, args.workdir, args.toolchain)
        if args.command == "status":
            return orchestrator.status(args.json)
        if args.command == "plan":
            return orchestrator.plan()
        if args.command == "up":
            return orchestrator.up(args.restart)
        if args.command == "drift":
            return orchestrator.drift()
        return orchestrator.destroy()
    except (FleetError, EngineError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
