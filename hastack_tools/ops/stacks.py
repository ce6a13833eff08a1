"""A stack as the engine commands see it: its backend, its workspace outside the repo, its one salt.

The repo's stack file is never rewritten by an engine command; the CLI reads a generated copy
(`--config-file`) in a workspace folder keyed by backend, project and stack, so switching
`PULUMI_BACKEND_URL` never mixes two backends' stacks. The passphrase salt of a stack is one value,
looked up in this order: the repo's stack file (`encryptionsalt:`, where `make secret` puts it, so
its `secure:` values decrypt anywhere), the generated copy, the backend's own state (`pulumi stack
export`: a lost workspace never loses the salt); only a stack that exists nowhere gets a new one.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from hastack_tools.ops.supervise import RunRecord


class EngineError(RuntimeError):
    """The engine could not be run; the message says what to do."""


def backend_url(env: Mapping[str, str], cache: Path) -> str:
    if env.get("PULUMI_BACKEND_URL"):
        return env["PULUMI_BACKEND_URL"]
    state = cache / "state"
    state.mkdir(parents=True, exist_ok=True)
    return f"file://{state}"


def render_backend_url(cache: Path) -> str:
    """Render runs keep their throwaway state apart from every deploy backend, so a render can never
    replace (and so delete) what a deploy of the same stack created."""
    state = cache / "render-state"
    state.mkdir(parents=True, exist_ok=True)
    return f"file://{state}"


def backend_key(url: str) -> str:
    scheme = url.split("://", 1)[0] if "://" in url else "cloud"
    return f"{scheme}-{hashlib.sha256(url.encode()).hexdigest()[:10]}"


@dataclass(frozen=True)
class StackWorkspace:
    """Where one stack's generated config and run record live, outside the repo."""

    project: str
    stack: str
    cache: Path
    backend: str

    @property
    def folder(self) -> Path:
        return self.cache / "stacks" / backend_key(self.backend) / self.project / self.stack

    @property
    def config_file(self) -> Path:
        return self.folder / f"Pulumi.{self.stack}.yaml"

    @property
    def render_dir(self) -> Path:
        return self.cache / "render" / self.project / self.stack

    @property
    def record(self) -> RunRecord:
        return RunRecord(self.folder)


def read_yaml(path: Path) -> dict[str, Any]:
    """A stack file as a mapping; invalid YAML is an error naming the file and the line."""
    try:
        loaded = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise EngineError(f"{path}{where}: not valid YAML: {problem}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise EngineError(
            f"{path}: a stack file is a mapping (config:, encryptionsalt:), got {type(loaded).__name__}"
        )
    return loaded


def cli(args: list[str], env: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["pulumi", *args], env=dict(env), cwd=cwd, capture_output=True, text=True, check=False
    )


def cli_error(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in (done.stderr or done.stdout).strip().splitlines() if line.strip()]
    return " ".join(lines[-3:]) or f"exit code {done.returncode}"


LIST_RETRIES = 3
"""`stack ls` of a file backend reads every stack's checkpoint; a fleet writing several stacks at once
makes it fail now and then ("error: EOF"), so a failure is asked again before it is believed."""


def stack_exists(workspace: StackWorkspace, env: Mapping[str, str]) -> bool:
    """Whether the backend holds the stack; a backend that cannot answer is an error, never a 'no'
    (that 'no' used to delete the generated config and with it the stack's salt)."""
    return workspace.stack in listed_stacks(workspace, env)


def listed_stacks(workspace: StackWorkspace, env: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The backend's stacks of the workspace's project by name, as `pulumi stack ls --json` lists
    them (`resourceCount`: 0 or absent for a stack never deployed)."""
    done = cli(["stack", "ls", "--json"], env, workspace.folder)
    for _ in range(LIST_RETRIES):
        if done.returncode == 0:
            break
        time.sleep(0.5)  # a file backend read while another stack's update writes can end early (EOF)
        done = cli(["stack", "ls", "--json"], env, workspace.folder)
    if done.returncode != 0:
        raise EngineError(
            f"the backend {workspace.backend} cannot list its stacks: {cli_error(done)}; "
            "if a checkpoint is corrupt, restore it (docs/runbooks.md, 'Corrupted checkpoint')"
        )
    return {str(entry.get("name", "")).rsplit("/", 1)[-1]: entry for entry in json.loads(done.stdout or "[]")}


def export_state(workspace: StackWorkspace, env: Mapping[str, str]) -> dict[str, Any]:
    done = cli(["stack", "export", "--stack", workspace.stack], env, workspace.folder)
    if done.returncode != 0:
        raise EngineError(f"pulumi stack export of {workspace.stack} failed: {cli_error(done)}")
    loaded = json.loads(done.stdout or "{}")
    return loaded if isinstance(loaded, dict) else {}


def checkpoint_file(workspace: StackWorkspace) -> Path | None:
    """The stack's checkpoint in a file backend (project-scoped layout, uncompressed), when there."""
    parsed = urlparse(workspace.backend)
    if parsed.scheme != "file":
        return None
    path = Path(parsed.path) / ".pulumi" / "stacks" / workspace.project / f"{workspace.stack}.json"
    return path if path.is_file() else None


def read_state(workspace: StackWorkspace, env: Mapping[str, str]) -> dict[str, Any]:
    """What `pulumi stack export` prints (the checkpoint's latest deployment, secrets encrypted), read
    straight from the checkpoint of a file backend, a CLI start less; through the CLI otherwise (another
    backend, a compressed or legacy layout, a file that does not parse)."""
    path = checkpoint_file(workspace)
    if path is not None:
        try:
            loaded = json.loads(path.read_text())
            checkpoint = loaded["checkpoint"]
            if isinstance(checkpoint, dict):
                return {"version": loaded.get("version", 3), "deployment": checkpoint.get("latest") or {}}
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return export_state(workspace, env)


def salt_of_state(state: Mapping[str, Any]) -> str | None:
    """The passphrase salt a stack's state was written with (`secrets_providers.state.salt`)."""
    providers = (state.get("deployment") or {}).get("secrets_providers") or {}
    if providers.get("type") != "passphrase":
        return None
    salt = (providers.get("state") or {}).get("salt")
    return str(salt) if salt else None


def known_salt(source: Path, workspace: StackWorkspace) -> str | None:
    """The stack's salt from the repo's stack file, else from the generated copy (no CLI call)."""
    for path in (source, workspace.config_file):
        if path.exists():
            salt = read_yaml(path).get("encryptionsalt")
            if salt:
                return str(salt)
    return None


SECRETS_KEYS = ("secretsprovider", "encryptedkey")


def prepare_stack(
    program: Path,
    workspace: StackWorkspace,
    env: Mapping[str, str],
    extra: Mapping[str, Any],
    exists: bool | None = None,
) -> bool:
    """Creates the stack when the backend lacks it, then writes the generated config; returns whether
    it created it. `pulumi stack init` writes into the stack file of the folder it runs in, so it runs
    in the workspace folder (with a copy of Pulumi.yaml), never in the repo. `exists`: whether the
    backend holds the stack, when the caller asked it already."""
    workspace.folder.mkdir(parents=True, exist_ok=True)
    (workspace.folder / "Pulumi.yaml").write_text((program / "Pulumi.yaml").read_text())
    source = program / f"Pulumi.{workspace.stack}.yaml"
    stack_file = read_yaml(source) if source.exists() else {}
    previous = read_yaml(workspace.config_file) if workspace.config_file.exists() else {}
    salt = known_salt(source, workspace)
    created = False
    if not (stack_exists(workspace, env) if exists is None else exists):
        # a salt we know (the repo's) is the one the new stack gets: init reads it from the file
        write_generated(workspace, source, stack_file, extra, {"encryptionsalt": salt} if salt else {})
        done = cli(
            ["stack", "init", workspace.stack, "--secrets-provider", "passphrase"], env, workspace.folder
        )
        if done.returncode != 0:
            raise EngineError(f"pulumi stack init {workspace.stack} failed: {cli_error(done)}")
        previous = read_yaml(workspace.config_file)
        created = True
    elif salt is None:
        salt = salt_of_state(export_state(workspace, env))
    secrets: dict[str, Any] = {key: previous[key] for key in SECRETS_KEYS if key in previous}
    salt = salt or previous.get("encryptionsalt")
    if salt:
        secrets["encryptionsalt"] = salt
    write_generated(workspace, source, stack_file, extra, secrets)
    return created


def write_generated(
    workspace: StackWorkspace,
    source: Path,
    stack_file: Mapping[str, Any],
    extra: Mapping[str, Any],
    secrets: Mapping[str, Any],
) -> None:
    generated: dict[str, Any] = {"config": {**(stack_file.get("config") or {}), **extra}, **secrets}
    header = f"# Generated by hastack_tools.ops.engine from {source}; edit that file instead.\n"
    workspace.config_file.write_text(header + yaml.safe_dump(generated, sort_keys=False))


def read_tags(workspace: StackWorkspace, env: Mapping[str, str]) -> dict[str, str]:
    done = cli(["stack", "tag", "ls", "--json", "--stack", workspace.stack], env, workspace.folder)
    if done.returncode != 0:
        raise EngineError(f"pulumi stack tag ls of {workspace.stack} failed: {cli_error(done)}")
    loaded = json.loads(done.stdout or "{}")
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def set_tag(workspace: StackWorkspace, env: Mapping[str, str], name: str, value: str) -> None:
    done = cli(["stack", "tag", "set", name, value, "--stack", workspace.stack], env, workspace.folder)
    if done.returncode != 0:
        raise EngineError(f"pulumi stack tag set {name} on {workspace.stack} failed: {cli_error(done)}")
