"""`make up|preview|down|refresh`: the real Pulumi engine (built by `make toolchain`) on a stack.

Where it deploys (`--target`, default: `kubeconfig` when KUBECONFIG is set, else `local`):
- `local`: the local control plane (cluster/up.sh: kube-apiserver, controller-manager, scheduler,
  etcd and kwok nodes on loopback), started if it is not running; Ingress status awaits are
  skipped there, since no ingress controller publishes one;
- `kubeconfig`: the cluster of the ambient kubeconfig;
- `render`: the kubernetes provider's `renderYamlToDirectory` mode, so the engine and every
  provider run for real and the manifests land in `<cache>/render/<project>/<stack>` instead of a
  cluster. Secret data in those files is redacted after each run.

The repo's stack files stay untouched: the engine reads a generated copy
(`--config-file`) that adds the target's settings and the stack's passphrase salt. The backend is
`PULUMI_BACKEND_URL` when set, else a local file backend in the cache.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml

from hastack_tools.dev.gate import choose_config
from hastack_tools.dev.mockrun import read_project
from hastack_tools.dev.program import NotAProgramError, StackFileMissingError, choose_stack

REPO = Path(__file__).resolve().parents[2]
REDACTED_B64 = base64.b64encode(b"<redacted>").decode()
COMMANDS = ("up", "preview", "destroy", "refresh")


class EngineError(RuntimeError):
    """The engine could not be run; the message says what to do."""


def toolchain_env(repo: Path = REPO) -> dict[str, str]:
    """The environment `source toolchain/env.sh` produces (PATH, PULUMI_HOME, offline settings)."""
    script = f"source {repo / 'toolchain' / 'env.sh'} >/dev/null && env -0"
    done = subprocess.run(["bash", "-c", script], capture_output=True, check=True)
    env = dict(item.split("=", 1) for item in done.stdout.decode().split("\0") if "=" in item)
    if env.get("HASTACK_TOOLCHAIN_OK") != "1":
        raise EngineError("the Pulumi toolchain is not built: run `make toolchain` (bash toolchain/build.sh)")
    return env


@dataclass(frozen=True)
class StackWorkspace:
    """Where one stack's generated config lives, outside the repo."""

    project: str
    stack: str
    cache: Path

    @property
    def folder(self) -> Path:
        return self.cache / "stacks" / self.project / self.stack

    @property
    def config_file(self) -> Path:
        return self.folder / f"Pulumi.{self.stack}.yaml"

    @property
    def render_dir(self) -> Path:
        return self.cache / "render" / self.project / self.stack


def program_copy(root: Path, stack: str, namespace_suffix: str) -> tuple[Path, str]:
    """This program in `root/program`, its stack file deploying into `<namespace>-<suffix>`.

    Tests and benchmarks run the real code side by side with a `make up` of the same stack; the
    copy's own namespace keeps them apart. Returns the program folder and the namespace.
    """
    program = root / "program"
    program.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        (program / name).write_text((REPO / name).read_text())
    # hastack itself is installed (editable) in .venv: the program needs nothing else.
    (program / ".venv").symlink_to(REPO / ".venv", target_is_directory=True)
    stack_file = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
    namespace = f"{stack_file['config']['hastack:namespace']}-{namespace_suffix}"
    stack_file["config"]["hastack:namespace"] = namespace
    (program / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(stack_file, sort_keys=False))
    return program, namespace


def backend_url(env: Mapping[str, str], cache: Path) -> str:
    if env.get("PULUMI_BACKEND_URL"):
        return env["PULUMI_BACKEND_URL"]
    state = cache / "state"
    state.mkdir(parents=True, exist_ok=True)
    return f"file://{state}"


def pulumi(
    args: Sequence[str],
    env: Mapping[str, str],
    cwd: Path,
    *,
    check: bool = True,
    log: IO[bytes] | None = None,
) -> int:
    """Runs the CLI with its output streaming to ours, or to `log`."""
    announce(f"$ pulumi {' '.join(args)}", log)
    code = subprocess.run(
        ["pulumi", *args], env=dict(env), cwd=cwd, check=False, stdout=log, stderr=log
    ).returncode
    if check and code != 0:
        raise EngineError(f"pulumi {args[0]} failed with exit code {code}")
    return code


def announce(line: str, log: IO[bytes] | None) -> None:
    if log is None:
        print(line, flush=True)
    else:
        log.write(line.encode() + b"\n")
        log.flush()


def stack_exists(workspace: StackWorkspace, env: Mapping[str, str]) -> bool:
    done = subprocess.run(
        ["pulumi", "stack", "ls", "--json"],
        env=dict(env),
        cwd=workspace.folder,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return False
    names = {str(entry.get("name", "")).rsplit("/", 1)[-1] for entry in json.loads(done.stdout or "[]")}
    return workspace.stack in names


def prepare_stack(
    program: Path,
    workspace: StackWorkspace,
    env: Mapping[str, str],
    extra: Mapping[str, Any],
    log: IO[bytes] | None = None,
) -> None:
    """Creates the stack once (passphrase secrets), then writes the generated config file.

    `pulumi stack init` writes its salt into the stack file of the folder it runs in, so it runs in
    the workspace folder (with a copy of Pulumi.yaml), never in the repo.
    """
    workspace.folder.mkdir(parents=True, exist_ok=True)
    (workspace.folder / "Pulumi.yaml").write_text((program / "Pulumi.yaml").read_text())
    previous = yaml.safe_load(workspace.config_file.read_text()) if workspace.config_file.exists() else {}
    if not stack_exists(workspace, env):
        workspace.config_file.unlink(missing_ok=True)
        pulumi(
            ["stack", "init", workspace.stack, "--secrets-provider", "passphrase"],
            env,
            workspace.folder,
            log=log,
        )
        previous = yaml.safe_load(workspace.config_file.read_text()) or {}
    source = program / f"Pulumi.{workspace.stack}.yaml"
    stack_file = yaml.safe_load(source.read_text()) if source.exists() else {}
    generated: dict[str, Any] = {"config": {**(stack_file.get("config") or {}), **extra}}
    for key in ("encryptionsalt", "secretsprovider", "encryptedkey"):
        if key in (previous or {}):
            generated[key] = previous[key]
    header = f"# Generated by hastack_tools.ops.engine from {source}; edit that file instead.\n"
    workspace.config_file.write_text(header + yaml.safe_dump(generated, sort_keys=False))


def redact_rendered_secrets(folder: Path) -> int:
    """The provider writes Secret data as it would send it; the files keep only the keys."""
    redacted = 0
    for path in folder.rglob("*.yaml"):
        documents = list(yaml.safe_load_all(path.read_text()))
        changed = False
        for document in documents:
            if isinstance(document, dict) and document.get("kind") == "Secret":
                for key in ("data", "stringData"):
                    if isinstance(document.get(key), dict):
                        document[key] = dict.fromkeys(
                            document[key], REDACTED_B64 if key == "data" else "<redacted>"
                        )
                        changed = True
        if changed:
            path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
            path.chmod(0o600)
            redacted += 1
    return redacted


def start_local_cluster(env: Mapping[str, str], log: IO[bytes] | None = None) -> str:
    """Starts (or finds running) the local control plane; returns its kubeconfig path."""
    done = subprocess.run(
        ["bash", str(REPO / "cluster" / "up.sh")], env=dict(env), check=False, stdout=log, stderr=log
    )
    if done.returncode != 0:
        raise EngineError("the local control plane did not start (cluster/up.sh); see its output above")
    kubeconfig = Path(env["HASTACK_CACHE"]) / "cluster" / "run" / "kubeconfig"
    if not kubeconfig.exists():
        raise EngineError(f"cluster/up.sh left no kubeconfig at {kubeconfig}")
    return str(kubeconfig)


def local_cluster_config(program: Path, stack: str) -> dict[str, Any]:
    """Nothing on the local control plane publishes Ingress status: don't wait for it."""
    source = program / f"Pulumi.{stack}.yaml"
    config = (yaml.safe_load(source.read_text()) or {}).get("config", {}) if source.exists() else {}
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
) -> int:
    """One engine command; `workdir` (default: the cache) holds the state, generated config and renders.
    `policy_config` replaces the pack config chosen by the stack's environment (up and preview).

    The CLI's output streams to ours, or into `log` (tests and benchmarks keep it out of their reports).
    """
    program = program.resolve()
    env = {**toolchain_env(), **(env_overrides or {})}
    cache = workdir or Path(env["HASTACK_CACHE"])
    project = str(read_project(program)["name"])
    workspace = StackWorkspace(project, stack, cache)
    env["PULUMI_BACKEND_URL"] = backend_url(env, cache)
    extra: dict[str, Any] = {}
    if target == "render":
        extra["kubernetes:renderYamlToDirectory"] = str(workspace.render_dir)
    elif target == "local":
        env["KUBECONFIG"] = start_local_cluster(env, log)
        extra.update(local_cluster_config(program, stack))
    prepare_stack(program, workspace, env, extra, log)
    args = [command, "--stack", stack, "--config-file", str(workspace.config_file), "--non-interactive"]
    if command in {"up", "destroy", "refresh"}:
        args.append("--yes")
    if command in {"up", "preview"}:
        policy_config = choose_config(program, stack, policy_config, REPO / "policy")
        args += ["--policy-pack", str(REPO / "policy"), "--policy-pack-config", str(policy_config)]
    scale_args, scale_env = scale_settings(command, extra_args, env)
    env.update(scale_env)
    code = pulumi([*args, *scale_args, *extra_args], env, program, check=False, log=log)
    if target == "render" and workspace.render_dir.exists():
        count = redact_rendered_secrets(workspace.render_dir)
        announce(f"rendered manifests: {workspace.render_dir} ({count} Secret file(s) redacted)", log)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument("--program", type=Path, default=REPO)
    parser.add_argument("--stack")
    parser.add_argument(
        "--target",
        choices=["local", "kubeconfig", "render"],
        default=os.environ.get("HASTACK_TARGET") or default_target(os.environ),
        help="local: the local control plane; kubeconfig: the current cluster; render: manifests only",
    )
    args, extra = parser.parse_known_args(argv)
    try:
        stack = choose_stack(args.program.resolve(), args.stack).name
    except (StackFileMissingError, NotAProgramError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        return run(args.command, args.program, stack, args.target, extra)
    except (EngineError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
