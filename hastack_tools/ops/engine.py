"""`make up|preview|down|refresh|cancel|secret`: the real Pulumi engine on a stack.

Where it deploys (`--target`, default: `kubeconfig` when KUBECONFIG is set, else `local`):
- `local`: the local control plane (cluster/up.sh), started if it is not running; on kwok nodes
  Ingress status awaits are skipped (no controller publishes one), on real nodes Traefik publishes it;
- `kubeconfig`: the cluster of the ambient kubeconfig;
- `render`: the kubernetes provider's `renderYamlToDirectory` mode, so the engine and every provider
  run for real and the manifests land in `<cache>/render/<project>/<stack>`. Render stacks live in a
  backend of their own (`<cache>/render-state`): a render can never replace, and so delete, what a
  deploy of the same stack created. Secret data in the files is redacted after each run.

A deploy records its target on the stack (tags `hastack:target`, `hastack:cluster-uid`); a command
with another target is refused while the stack holds resources (`--retarget` moves it on purpose),
and a cluster recreated under the same address is refreshed first.

Which CLI (`--toolchain` / TOOLCHAIN): `built` (toolchain/build.sh, cached), `system` (the `pulumi`
on PATH and the plugins it finds), default `auto`: system when a `pulumi` is on PATH and the target
needs no local control plane, else built.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import yaml

from hastack.config import ConfigError
from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.common.policy_config import stack_policy_config
from hastack_tools.common.project import (
    NotAProgramError,
    StackFileMissingError,
    choose_stack,
    read_project,
    validated_stack_config,
)
from hastack_tools.common.toolchain import ToolchainError, toolchain_env
from hastack_tools.ops import kubeapi, local_urls, recovery
from hastack_tools.ops.stacks import (
    EngineError,
    StackWorkspace,
    backend_url,
    cli,
    cli_error,
    export_state,
    prepare_stack,
    read_tags,
    read_yaml,
    render_backend_url,
    set_tag,
)
from hastack_tools.ops.supervise import RunningError, command_line, run_supervised
from hastack_tools.ops.toolchain_choice import TOOLCHAINS, choose_toolchain

__all__ = ["EngineError", "StackWorkspace", "backend_url", "prepare_stack"]

REDACTED_B64 = base64.b64encode(b"<redacted>").decode()
COMMANDS = ("up", "preview", "destroy", "refresh")
TARGETS = ("local", "kubeconfig", "render")
LOCAL_PASSPHRASE = "hastack-local-only"
MIN_SYSTEM_PULUMI = (3, 221)
"""Since v3.221 the CLI runs Python policy packs through the language host, as our pack expects."""

UNREACHABLE_AFTER_S = 30.0
"""An API server silent this long during a command cancels it (it used to hang 600 s, then report a
rollout timeout)."""
CANCEL_WAIT_S = 300.0
"""How long `make cancel` waits for the running command to finish its own cancel."""
FORCE_AFTER_S = 90.0
"""A CLI still busy this long after its cancel is stopped at once (the next run settles the rest)."""


def system_env(base: Mapping[str, str]) -> dict[str, str]:
    """The caller's own `pulumi` and plugins, as an official install would run them."""
    found = shutil.which("pulumi", path=base.get("PATH"))
    if found is None:
        raise EngineError(
            "TOOLCHAIN=system: no `pulumi` on PATH (install it, or leave TOOLCHAIN unset to build one)"
        )
    env = dict(base)
    env.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    done = subprocess.run([found, "version"], env=env, capture_output=True, text=True, check=False)
    match = re.match(r"v?(\d+)\.(\d+)", done.stdout.strip())
    if done.returncode != 0 or match is None:
        raise EngineError(
            f"TOOLCHAIN=system: `{found} version` failed: {done.stderr.strip() or done.stdout.strip()}"
        )
    version = (int(match[1]), int(match[2]))
    if version < MIN_SYSTEM_PULUMI:
        raise EngineError(
            f"TOOLCHAIN=system: {found} is {done.stdout.strip()}; hastack needs pulumi >= "
            f"{'.'.join(map(str, MIN_SYSTEM_PULUMI))} (Python policy packs through the language host)"
        )
    env["HASTACK_CLI"] = f"{found} {done.stdout.strip()} (system)"
    env.setdefault("HASTACK_CACHE", str(Path(env.get("HOME", "~")).expanduser() / ".cache" / "hastack"))
    env.setdefault("PULUMI_PYTHON_VIRTUALENV", str(REPO_ROOT / ".venv"))
    env.setdefault("HASTACK_REPO", str(REPO_ROOT))
    return env


def built_env(log: IO[bytes] | None) -> dict[str, str]:
    """Builds the toolchain when missing (a no-op once built), then its environment."""
    done = subprocess.run(
        ["bash", str(REPO_ROOT / "toolchain" / "build.sh")], check=False, stdout=log, stderr=log
    )
    if done.returncode != 0:
        raise EngineError("building the Pulumi toolchain failed (toolchain/build.sh): see its output above")
    try:
        env = toolchain_env()
    except ToolchainError as error:
        raise EngineError(str(error)) from None
    env["HASTACK_CLI"] = f"{env['HASTACK_TOOLCHAIN_BIN']}/pulumi (built by toolchain/build.sh)"
    return env


def program_copy(root: Path, stack: str, namespace_suffix: str) -> tuple[Path, str]:
    """This program in `root/program`, its stack file deploying into `<namespace>-<suffix>`.

    Tests and benchmarks run the real code side by side with a `make up` of the same stack; the
    copy's own namespace keeps them apart. Returns the program folder and the namespace.
    """
    program = root / "program"
    program.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        (program / name).write_text((REPO_ROOT / name).read_text())
    # hastack itself is installed (editable) in .venv: the program needs nothing else.
    (program / ".venv").symlink_to(REPO_ROOT / ".venv", target_is_directory=True)
    stack_file = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())
    namespace = f"{stack_file['config']['hastack:namespace']}-{namespace_suffix}"
    stack_file["config"]["hastack:namespace"] = namespace
    (program / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(stack_file, sort_keys=False))
    return program, namespace


def announce(line: str, log: IO[bytes] | None) -> None:
    if log is None:
        print(line, flush=True)
    else:
        log.write(line.encode() + b"\n")
        log.flush()


def redact_rendered_secrets(folder: Path) -> int:
    """The provider writes Secret data as it would send it; the files keep only the keys."""
    redacted = 0
    for path in folder.rglob("*.yaml"):
        documents = list(yaml.safe_load_all(path.read_text()))
        changed = False
        for document in documents:
            if isinstance(document, dict) and document.get("kind") == "Secret":
                for key in ("data", "stringData"):
                    values = document.get(key)
                    if isinstance(values, dict) and any(
                        v != (REDACTED_B64 if key == "data" else "<redacted>") for v in values.values()
                    ):
                        document[key] = dict.fromkeys(values, REDACTED_B64 if key == "data" else "<redacted>")
                        changed = True
        if changed:
            path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
            path.chmod(0o600)
            redacted += 1
    return redacted


def local_cluster_run(env: Mapping[str, str]) -> Path:
    """The run folder of the local control plane HASTACK_CLUSTER names, as cluster/versions.sh says."""
    script = f'. "{REPO_ROOT / "cluster" / "versions.sh"}" && echo "$CLUSTER_RUN"'
    done = subprocess.run(["bash", "-c", script], env=dict(env), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise EngineError(done.stderr.strip() or "cluster/versions.sh failed")
    return Path(done.stdout.strip())


def start_local_cluster(env: Mapping[str, str], log: IO[bytes] | None = None) -> str:
    """Starts (or finds running) the local control plane; returns its kubeconfig path."""
    done = subprocess.run(
        ["bash", str(REPO_ROOT / "cluster" / "up.sh")], env=dict(env), check=False, stdout=log, stderr=log
    )
    if done.returncode != 0:
        raise EngineError("the local control plane did not start (cluster/up.sh); see its output above")
    kubeconfig = local_cluster_run(env) / "kubeconfig"
    if not kubeconfig.exists():
        raise EngineError(f"cluster/up.sh left no kubeconfig at {kubeconfig}")
    return str(kubeconfig)


def local_nodes_mode(env: Mapping[str, str]) -> str:
    """`real` when the local control plane runs real nodes (cluster/nodes.sh, with Traefik), else `kwok`."""
    return local_urls.nodes_mode(local_cluster_run(env))


def local_cluster_config(program: Path, stack: str, nodes: str = "kwok") -> dict[str, Any]:
    """On kwok nodes nothing publishes Ingress status: don't wait for it. On real nodes Traefik does,
    and the wait proves it routes."""
    if nodes == "real":
        return {}
    source = program / f"Pulumi.{stack}.yaml"
    config = read_yaml(source).get("config", {}) if source.exists() else {}
    ingress = config.get("hastack:ingress")
    if not isinstance(ingress, dict):
        return {}
    return {"hastack:ingress": {**ingress, "awaitLoadBalancer": False}}


PARALLEL = 256
"""Resource operations in flight (the CLI's default is 4 per CPU: 8 on 2 cores). An `up` mostly waits:
the kubernetes provider holds a slot while it awaits each Deployment and, for 10 s after its endpoints
last changed, each Service, so at 8 slots 100 apps queue behind those waits (README, "Real engine at
scale"). The waits cost no CPU; the CPU-bound work is not sped up or slowed down by more slots."""


GO_MEMORY_LIMIT = "384MiB"
"""GOMEMLIMIT for the CLI and its Go plugins: a soft heap limit, so the Go collector runs before the
CLI's garbage (a whole snapshot per step) takes it past 500 MiB on a 100-app stack (577 MiB peak
without, 456 MiB with; README, "Real engine at scale"). Over the limit Go caps its collector at half
the CPU, so a larger stack is slowed, never stopped."""


def scale_settings(
    command: str, extra_args: Sequence[str], env: Mapping[str, str]
) -> tuple[list[str], dict[str, str]]:
    """Extra CLI arguments and environment for `command` on a large stack, unless the caller chose.

    `--parallel PARALLEL`, `GOMEMLIMIT=GO_MEMORY_LIMIT`; and for preview
    `PULUMI_SKIP_CHECKPOINTS=true`: pulumi 3.274 builds and verifies a whole snapshot after every
    step even of a preview, only to discard it (the DIY backend's DiscardPersister), which is
    quadratic in the stack's size; a preview persists nothing, so skipping those loses nothing.
    """
    args: list[str] = []
    chose_parallel = any(a == "--parallel" or a.startswith(("-p", "--parallel=")) for a in extra_args)
    if command in COMMANDS and not chose_parallel:
        args += ["--parallel", str(PARALLEL)]
    extra_env: dict[str, str] = {} if "GOMEMLIMIT" in env else {"GOMEMLIMIT": GO_MEMORY_LIMIT}
    if command == "preview" and "PULUMI_SKIP_CHECKPOINTS" not in env:
        extra_env["PULUMI_SKIP_CHECKPOINTS"] = "true"
    return args, extra_env


def default_target(env: Mapping[str, str]) -> str:
    return "kubeconfig" if env.get("KUBECONFIG") else "local"


def unreachable_watchdog(
    api: kubeapi.KubeAPI, after_s: float = UNREACHABLE_AFTER_S
) -> Callable[[], str | None]:
    """A reason to cancel once the API server has not answered for `after_s`."""
    silent_since: list[float] = []

    def check() -> str | None:
        try:
            api.ready(timeout_s=3.0)
        except kubeapi.UnreachableError as error:
            silent_since[:] = silent_since or [time.monotonic()]
            if time.monotonic() - silent_since[0] >= after_s:
                return f"{error} for {after_s:.0f} s"
            return None
        silent_since.clear()
        return None

    return check


def managed_resources(state: Mapping[str, Any]) -> int:
    """Resources a stack holds besides its root and providers."""
    return sum(
        1
        for r in (state.get("deployment") or {}).get("resources") or []
        if r.get("type") != "pulumi:pulumi:Stack"
        and not str(r.get("type", "")).startswith("pulumi:providers:")
    )


def check_target(
    workspace: StackWorkspace,
    env: Mapping[str, str],
    target: str,
    api: kubeapi.KubeAPI,
    state: Mapping[str, Any],
    retarget: bool,
    say: Callable[[str], None],
    tags: Mapping[str, str] | None = None,
) -> tuple[str, str | None, bool]:
    """(target tag, cluster uid, whether to refresh first). Refuses a stack deployed elsewhere.
    `tags`: the stack's, when the caller read them already."""
    wanted = "local" if target == "local" else f"kubeconfig {api.server}"
    uid = api.cluster_uid()
    tags = read_tags(workspace, env) if tags is None else tags
    recorded = tags.get("hastack:target")
    holds = managed_resources(state)
    if recorded and recorded != wanted and holds and not retarget:
        raise EngineError(
            f"stack {workspace.stack} holds {holds} resource(s) deployed to {recorded}; this command "
            f"targets {wanted}. Pulumi would create them there and delete them from the first cluster. "
            f"Use the target it was deployed with (TARGET={recorded.split()[0]}), or move it on purpose: "
            f"`make down` there first, or RETARGET=1 if that cluster is gone for good"
        )
    refresh = bool(
        holds and recorded == wanted and uid and tags.get("hastack:cluster-uid") not in (None, uid)
    )
    if refresh:
        say(
            f"hastack: the cluster at {api.server} is a new one (kube-system uid {uid}, was "
            f"{tags.get('hastack:cluster-uid')}): refreshing the state from it first"
        )
    return wanted, uid, refresh


def command_env(
    target: str,
    toolchain: str = "auto",
    env_overrides: Mapping[str, str] | None = None,
    log: IO[bytes] | None = None,
) -> dict[str, str]:
    """The environment an engine command on `target` runs the CLI in: the chosen toolchain (built
    when missing) and the passphrase (the local-only default serves `local` and `render` alone)."""
    base = {**os.environ, **(env_overrides or {})}
    chosen = choose_toolchain(toolchain, target, base)
    env = system_env(base) if chosen == "system" else {**built_env(log), **(env_overrides or {})}
    if (
        target != "local"
        and "PULUMI_CONFIG_PASSPHRASE" not in base
        and "PULUMI_CONFIG_PASSPHRASE_FILE" not in base
    ):
        if target == "kubeconfig":
            raise EngineError(
                "TARGET=kubeconfig deploys to a real cluster: set PULUMI_CONFIG_PASSPHRASE (or "
                f"PULUMI_CONFIG_PASSPHRASE_FILE); the default '{LOCAL_PASSPHRASE}' is for local stacks only"
            )
        env["PULUMI_CONFIG_PASSPHRASE"] = LOCAL_PASSPHRASE
    return env


def run(
    command: str,
    program: Path,
    stack: str,
    target: str,
    extra_args: Sequence[str] = (),
    *,
    workdir: Path | None = None,
    env_overrides: Mapping[str, str] | None = None,
    log: IO[bytes] | None = None,
    policy_config: Path | None = None,
    toolchain: str = "auto",
    retarget: bool = False,
) -> int:
    """One engine command; `workdir` (default: the cache) holds the state, generated config and renders.
    `policy_config` replaces the pack config chosen by the stack's environment (up and preview).

    The CLI's output streams to ours, or into `log` (tests and benchmarks keep it out of their reports).
    """

    def say(line: str) -> None:
        announce(line, log)

    program = program.resolve()
    source = program / f"Pulumi.{stack}.yaml"
    if source.exists():
        read_yaml(source)  # a broken stack file is named before anything starts
    env = command_env(target, toolchain, env_overrides, log)
    cache = workdir or Path(env["HASTACK_CACHE"])
    project = str(read_project(program)["name"])
    backend = render_backend_url(cache) if target == "render" else backend_url(env, cache)
    env["PULUMI_BACKEND_URL"] = backend
    workspace = StackWorkspace(project, stack, cache, backend)
    say(
        f"hastack: pulumi {command} of stack {stack}, target {target}; "
        f"CLI {env['HASTACK_CLI']}; backend {backend}"
    )
    try:
        with workspace.record.held(f"pulumi {command} of stack {stack}"):
            return _run_locked(
                command, program, workspace, target, extra_args, env, log, policy_config, retarget, say
            )
    except RunningError as error:
        raise EngineError(str(error)) from None


def _run_locked(
    command: str,
    program: Path,
    workspace: StackWorkspace,
    target: str,
    extra_args: Sequence[str],
    env: dict[str, str],
    log: IO[bytes] | None,
    policy_config: Path | None,
    retarget: bool,
    say: Callable[[str], None],
) -> int:
    dead = workspace.record.read()
    api, extra = connect(program, workspace, target, env, log, say)
    created = prepare_stack(program, workspace, env, extra)
    state = {} if created else settle(workspace, env, dead, api, say)
    refresh_first = False
    identity: tuple[str, str | None] | None = None
    if api is not None:
        wanted, uid, refresh_first = check_target(workspace, env, target, api, state, retarget, say)
        identity = (wanted, uid)
    args = cli_args(command, program, workspace, refresh_first, policy_config)
    scale_args, scale_env = scale_settings(command, extra_args, env)
    env.update(scale_env)
    argv = ["pulumi", *args, *scale_args, *extra_args]
    announce(f"$ {' '.join(argv)}", log)
    try:
        outcome = run_supervised(
            argv,
            env,
            program,
            workspace.record,
            log=log,
            say=say,
            force_after_s=FORCE_AFTER_S,
            watchdog=unreachable_watchdog(api) if api is not None else None,
        )
    finally:
        if target == "render" and workspace.render_dir.exists():
            count = redact_rendered_secrets(workspace.render_dir)
            say(f"rendered manifests: {workspace.render_dir} ({count} Secret file(s) redacted)")
    for line in outcome.leftovers:
        say(f"hastack: stopped a plugin the CLI left running: {line}")
    if outcome.code < 0 or outcome.cancelled_because:
        cause = outcome.cancelled_because or f"pulumi was killed (signal {-outcome.code})"
        say(f"hastack: {cause}; settling the stack so the next command starts clean")
        if api is None or _answers(api):
            recovery.recover(workspace, env, say=say, api=api)
        else:
            say(
                "hastack: the cluster does not answer; once it does, "
                f"`make up STACK={workspace.stack}` settles the rest"
            )
        return outcome.code if outcome.code > 0 else 1
    if outcome.code == 0 and identity is not None and command in {"up", "refresh"}:
        set_tag(workspace, env, "hastack:target", identity[0])
        if identity[1]:
            set_tag(workspace, env, "hastack:cluster-uid", identity[1])
    if outcome.interrupted:
        say(f"hastack: interrupted; pulumi exited {outcome.code} with its state saved")
    if outcome.code != 0 and command == "up" and api is not None:
        settle_failed_up(workspace, env, api, say)
    if outcome.code == 0 and not outcome.interrupted and command == "up" and target == "local":
        stack_file = program / f"Pulumi.{workspace.stack}.yaml"
        config = read_yaml(stack_file).get("config", {}) if stack_file.exists() else {}
        local_urls.announce(local_cluster_run(env), config, env, say)
    return outcome.code


def settle_failed_up(
    workspace: StackWorkspace, env: Mapping[str, str], api: kubeapi.KubeAPI, say: Callable[[str], None]
) -> None:
    """A failed `up` may have created objects its state never recorded (its checkpoint writes failed):
    swept now; when the cluster or the backend cannot be asked, the next command's settle does it."""
    if not _answers(api):
        say(f"hastack: the cluster does not answer; `make up STACK={workspace.stack}` settles the rest")
        return
    try:
        recovery.recover(workspace, env, say=say, api=api)
    except EngineError as error:
        say(f"hastack: could not settle the failed run now ({error}); the next command does it")


def connect(
    program: Path,
    workspace: StackWorkspace,
    target: str,
    env: dict[str, str],
    log: IO[bytes] | None,
    say: Callable[[str], None],
) -> tuple[kubeapi.KubeAPI | None, dict[str, Any]]:
    """The target's API client (None for render) and the config the target adds; an unreachable
    cluster or an unusable kubeconfig is an error here, before anything is deployed."""
    if target == "render":
        if workspace.render_dir.exists():
            redact_rendered_secrets(workspace.render_dir)  # what a killed run left in plain text
        return None, {"kubernetes:renderYamlToDirectory": str(workspace.render_dir)}
    extra: dict[str, Any] = {}
    if target == "local":
        env["KUBECONFIG"] = start_local_cluster(env, log)
        extra.update(local_cluster_config(program, workspace.stack, local_nodes_mode(env)))
    try:
        api = kubeapi.KubeAPI.from_kubeconfig(kubeapi.kubeconfig_path(env))
        say(f"hastack: cluster {api.server} (context {api.context}, {api.source})")
        api.ready()
    except (kubeapi.KubeconfigError, kubeapi.UnreachableError) as error:
        raise EngineError(f"{error}; nothing was deployed") from None
    return api, extra


def settle(
    workspace: StackWorkspace,
    env: Mapping[str, str],
    dead: Mapping[str, Any] | None,
    api: kubeapi.KubeAPI | None,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Clears what an earlier run left (processes, a dead owner's lock, pending operations); returns
    the stack's state afterwards. A run whose wrapper died while its CLI runs on is not touched."""
    if dead is not None and cli_alive(dead):
        raise EngineError(
            f"`pulumi {dead.get('command')}` of stack {workspace.stack} (pid {dead.get('pid')}, started "
            f"{dead.get('started')}) still runs without the command that started it: wait for it to end, "
            f"or stop it with `make cancel STACK={workspace.stack}`"
        )
    if dead is not None:
        say(
            f"hastack: the previous `pulumi {dead.get('command')}` of stack {workspace.stack} "
            f"(pid {dead.get('pid')}, started {dead.get('started')}) did not finish: settling what it left"
        )
    for path in recovery.repair_sidecars(workspace.backend, workspace.project, workspace.stack):
        say(f"hastack: {recovery.sidecar_line(path)}")  # before the state can be read at all
    state = export_state(workspace, env)
    done = recovery.recover(
        workspace, env, dead_sid=dead.get("sid") if dead else None, say=say, state=state, api=api
    )
    workspace.record.clear()
    if dead is not None or recovery.pending_operations(state) or done.swept:
        state = export_state(workspace, env)
    return state


def cli_args(
    command: str, program: Path, workspace: StackWorkspace, refresh_first: bool, policy_config: Path | None
) -> list[str]:
    args = [
        command,
        "--stack",
        workspace.stack,
        "--config-file",
        str(workspace.config_file),
        "--non-interactive",
    ]
    if command in {"up", "destroy", "refresh"}:
        args.append("--yes")
    if refresh_first and command in {"up", "preview", "destroy"}:
        args.append("--refresh")
    if command in {"up", "preview"}:
        policy_config = stack_policy_config(program, workspace.stack, policy_config, REPO_ROOT / "policy")
        args += ["--policy-pack", str(REPO_ROOT / "policy"), "--policy-pack-config", str(policy_config)]
    return args


def _answers(api: kubeapi.KubeAPI) -> bool:
    try:
        api.ready(timeout_s=3.0)
    except kubeapi.UnreachableError:
        return False
    return True


def cli_alive(record: Mapping[str, Any]) -> bool:
    """Whether the CLI of a run record still runs (its pid runs a pulumi binary)."""
    pid = record.get("pid")
    return isinstance(pid, int) and "pulumi" in command_line(pid).split(" ", 1)[0]


def cancel(
    program: Path, stack: str, target: str, *, force: bool = False, workdir: Path | None = None
) -> int:
    """`make cancel`: stops an engine command of ours on the stack (its own graceful cancel first),
    then settles what it left; FORCE=1 also removes a lock whose owner cannot be checked."""
    env = (
        system_env(os.environ)
        if choose_toolchain("auto", target, os.environ) == "system"
        else built_env(None)
    )
    env = {**os.environ, **env}
    env.setdefault("PULUMI_CONFIG_PASSPHRASE", LOCAL_PASSPHRASE)
    cache = workdir or Path(env["HASTACK_CACHE"])
    program = program.resolve()
    backend = render_backend_url(cache) if target == "render" else backend_url(env, cache)
    env["PULUMI_BACKEND_URL"] = backend
    workspace = StackWorkspace(str(read_project(program)["name"]), stack, cache, backend)
    running = workspace.record.read()
    if running is not None and cli_alive(running):
        print(
            f"hastack: asking `pulumi {running.get('command')}` (pid {running['pid']}) to cancel; "
            "waiting for it"
        )
        os.kill(int(running["pid"]), signal.SIGINT)
        deadline = time.monotonic() + CANCEL_WAIT_S
        while cli_alive(running) and time.monotonic() < deadline:
            time.sleep(0.2)
    with workspace.record.held(f"make cancel of stack {stack}", wait_s=CANCEL_WAIT_S):
        api, _ = connect(program, workspace, target, env, None, print)
        dead = workspace.record.read()
        if force:
            for lock in recovery.backend_locks(backend, workspace.project, stack, env):
                done = cli(["cancel", "--yes", "--stack", stack], env, workspace.folder)
                if done.returncode != 0:
                    raise EngineError(f"could not remove {lock.path}: {cli_error(done)}")
                print(f"hastack: removed the lock of {lock.describe()} ({lock.path}) as asked (FORCE=1)")
        recovery.recover(workspace, env, dead_sid=dead.get("sid") if dead else None, api=api)
        workspace.record.clear()
    print(f"hastack: stack {stack} has no lock and no pending operation")
    return 0


SECRET_KEY = re.compile(
    r"^(?:[a-z][a-zA-Z0-9-]*:)?[a-zA-Z][a-zA-Z0-9_]*(?:\[\d+\]|\.[A-Za-z_][A-Za-z0-9_]*)*$"
)


def add_salt(stack_file: Path, salt: str) -> None:
    """Puts `encryptionsalt:` into a stack file that has none, as a line of its own after the leading
    comments (the file's other lines, comments among them, stay as they are)."""
    lines = stack_file.read_text().splitlines(keepends=True)
    at = next((i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")), len(lines))
    lines.insert(at, f"encryptionsalt: {salt}\n")
    stack_file.write_text("".join(lines))


def check_hastack_config(program: Path, stack: str) -> None:
    """Validates a hastack stack file the way the program will, so `make secret` never leaves a file
    the next `make up` refuses; other projects are not ours to judge."""
    if read_project(program).get("name") != "hastack":
        return
    try:
        validated_stack_config(program, stack)
    except ConfigError as error:
        raise EngineError(str(error)) from None


def set_secret(
    program: Path,
    stack: str,
    key: str,
    value: str,
    *,
    workdir: Path | None = None,
    env_overrides: Mapping[str, str] | None = None,
    toolchain: str = "auto",
) -> str:
    """`make secret`: encrypts `value` with the stack's salt into the repo's stack file at `key`
    (`apps[0].secretEnv.DB_PASSWORD`, project namespace implied). Returns the full key.

    The salt is the stack's one salt (hastack_tools.ops.stacks): written into the stack file when it
    has none, so the value decrypts through `make up`, any backend, and an official CLI alike.
    """
    if not SECRET_KEY.match(key):
        raise EngineError(f"KEY={key!r}: a config path such as 'apps[0].secretEnv.DB_PASSWORD'")
    if not value:
        raise EngineError("make secret reads the value from standard input, and it was empty")
    program = program.resolve()
    source = program / f"Pulumi.{stack}.yaml"
    if not source.exists():
        raise EngineError(f"{source} does not exist: a secret is set in an existing stack file")
    read_yaml(source)
    project = str(read_project(program)["name"])
    full_key = key if ":" in key.split(".", maxsplit=1)[0].split("[", maxsplit=1)[0] else f"{project}:{key}"
    base = {**os.environ, **(env_overrides or {})}
    env = (
        system_env(base)
        if choose_toolchain(toolchain, "local", base) == "system"
        else {**built_env(None), **(env_overrides or {})}
    )
    if "PULUMI_CONFIG_PASSPHRASE" not in base and "PULUMI_CONFIG_PASSPHRASE_FILE" not in base:
        print(
            f"hastack: no PULUMI_CONFIG_PASSPHRASE: using the local-only '{LOCAL_PASSPHRASE}' "
            "(anyone with this repository can decrypt; set your own for real secrets)",
            file=sys.stderr,
        )
        env["PULUMI_CONFIG_PASSPHRASE"] = LOCAL_PASSPHRASE
    cache = workdir or Path(env["HASTACK_CACHE"])
    env["PULUMI_BACKEND_URL"] = backend_url(env, cache)
    workspace = StackWorkspace(project, stack, cache, env["PULUMI_BACKEND_URL"])
    with workspace.record.held(f"make secret on stack {stack}"):
        prepare_stack(program, workspace, env, {})
        salt = read_yaml(workspace.config_file).get("encryptionsalt")
        if not salt:
            raise EngineError(
                f"stack {stack} has no passphrase salt in {workspace.config_file}: "
                "is its secrets provider a passphrase?"
            )
        before = source.read_text()
        if not read_yaml(source).get("encryptionsalt"):
            add_salt(source, str(salt))
        args = [
            "config",
            "set",
            "--secret",
            "--path",
            full_key,
            "--config-file",
            str(source),
            "--stack",
            stack,
        ]
        done = subprocess.run(
            ["pulumi", *args],
            env=env,
            cwd=workspace.folder,
            input=value,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            source.write_text(before)
            raise EngineError(f"pulumi config set {full_key} failed: {cli_error(done)}")
        try:
            check_hastack_config(program, stack)
        except EngineError as error:
            source.write_text(before)
            raise EngineError(f"{error}\n{source.name} is left as it was") from None
        check = cli(
            ["config", "get", "--path", full_key, "--config-file", str(source), "--stack", stack],
            env,
            workspace.folder,
        )
        if check.returncode != 0 or check.stdout.rstrip("\n") != value.rstrip("\n"):
            raise EngineError(
                f"{source}: {full_key} does not decrypt to the value just set: {cli_error(check)}"
            )
    return full_key


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=[*COMMANDS, "cancel", "secret"])
    parser.add_argument("--program", type=Path, default=REPO_ROOT)
    parser.add_argument("--stack")
    parser.add_argument(
        "--target",
        choices=TARGETS,
        default=os.environ.get("HASTACK_TARGET") or default_target(os.environ),
        help="local: the local control plane; kubeconfig: the current cluster; render: manifests only",
    )
    parser.add_argument("--toolchain", choices=TOOLCHAINS, default=os.environ.get("TOOLCHAIN") or "auto")
    parser.add_argument("--retarget", action="store_true", help="deploy a stack to another target on purpose")
    parser.add_argument("--force", action="store_true", help="cancel: also remove a lock of another machine")
    parser.add_argument("--key", help="secret: the config path, e.g. 'apps[0].secretEnv.DB_PASSWORD'")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=os.environ.get("HASTACK_WORKDIR") or None,
        help="holds the local state, workspaces and renders (default: the cache)",
    )
    args, extra = parser.parse_known_args(argv)
    try:
        stack = choose_stack(args.program.resolve(), args.stack).name
    except (StackFileMissingError, NotAProgramError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        if args.command == "cancel":
            return cancel(args.program, stack, args.target, force=args.force, workdir=args.workdir)
        if args.command == "secret":
            if not args.key:
                raise EngineError(
                    "make secret needs KEY=<config path>, e.g. KEY='apps[0].secretEnv.DB_PASSWORD'"
                )
            if sys.stdin.isatty():
                print(f"value for {args.key} (input hidden; end with Enter):", file=sys.stderr)
                import getpass

                value = getpass.getpass("")
            else:
                value = sys.stdin.read()
            key = set_secret(
                args.program, stack, args.key, value, toolchain=args.toolchain, workdir=args.workdir
            )
            print(
                f"hastack: set {key} in {args.program.resolve() / f'Pulumi.{stack}.yaml'} (secure: encrypted "
                f"with the salt of stack {stack}); `make up STACK={stack}` deploys it"
            )
            return 0
        return run(
            args.command,
            args.program,
            stack,
            args.target,
            extra,
            toolchain=args.toolchain,
            retarget=args.retarget,
            workdir=args.workdir,
        )
    except (EngineError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
