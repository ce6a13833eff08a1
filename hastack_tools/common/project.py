"""A Pulumi program's folder as the engine reads it: the project file, which stack file a run uses,
and the config map the engine would hand the program (secure values decrypted). The offline tools
and the engine commands both start here."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hastack.config import ConfigError, StackConfig
from hastack.config.load import raw_from_engine, secure_paths_in_stack_file, validate
from hastack.config.types import PROJECT
from hastack_tools.common.stack_secrets import decrypter

THIS_PROJECT = "hastack"
OUTSIDE_STACK = "ci"
"""The stack an outside program is run as when none is named (its Pulumi.ci.yaml, if any)."""


class NotAProgramError(ValueError):
    """The folder holds no readable Pulumi project (Pulumi.yaml missing or without a name)."""


class StackFileMissingError(ValueError):
    """A stack was named whose Pulumi.<stack>.yaml does not exist."""


def existing_stacks(program: Path) -> list[str]:
    """The stacks that have a stack file in the program's folder, sorted."""
    names = {
        path.name.removeprefix("Pulumi.").rsplit(".", 1)[0]
        for pattern in ("Pulumi.*.yaml", "Pulumi.*.yml")
        for path in program.glob(pattern)
    }
    return sorted(names)


def stacks_text(program: Path) -> str:
    """The program's stacks, for a message (`dev, prod`, or that there is none)."""
    stacks = existing_stacks(program)
    return ", ".join(stacks) if stacks else "none (no Pulumi.<stack>.yaml there)"


@dataclass(frozen=True)
class StackChoice:
    """The stack a run uses, the file its config comes from (None: project config only) and why."""

    name: str
    file: Path | None
    reason: str

    def describe(self) -> str:
        source = self.file.name if self.file else f"no Pulumi.{self.name}.yaml, project config only"
        return f"stack {self.name} ({self.reason}; {source})"


def choose_stack(program: Path, explicit: str | None) -> StackChoice:
    """A named stack must have its stack file; the default is `dev` here and `ci` for another program."""
    try:
        project = str(read_project(program)["name"])
    except (FileNotFoundError, ValueError) as error:
        raise NotAProgramError(str(error)) from error
    if explicit:
        path = program / f"Pulumi.{explicit}.yaml"
        if not path.exists():
            raise StackFileMissingError(
                f"stack {explicit!r} was asked for, but {path} does not exist; "
                f"stacks of {program}: {stacks_text(program)}"
            )
        return StackChoice(explicit, path, "asked for")
    name, reason = ("dev", "the default here") if project == THIS_PROJECT else (OUTSIDE_STACK, "the default")
    path = program / f"Pulumi.{name}.yaml"
    return StackChoice(name, path if path.exists() else None, reason)


def read_project(program_dir: Path) -> dict[str, Any]:
    """Pulumi.yaml as a dict; names the file when it is missing or not a mapping."""
    for candidate in ("Pulumi.yaml", "Pulumi.yml"):
        path = program_dir / candidate
        if path.exists():
            loaded = yaml.safe_load(path.read_text())
            if not isinstance(loaded, dict) or "name" not in loaded:
                raise ValueError(f"{path}: not a Pulumi project file (no 'name')")
            return loaded
    raise FileNotFoundError(f"{program_dir}: no Pulumi.yaml")


def engine_config(program_dir: Path, stack: str) -> tuple[dict[str, str], list[str]]:
    """The config map the engine would hand the program: project defaults, then the stack file.

    Values are strings as the engine passes them (objects and lists JSON-encoded). Encrypted
    (`secure:`) values are decrypted with the stack file's salt and the passphrase, as the engine
    does (a value that does not decrypt is a StackSecretError naming its key), and their key is
    marked secret (the whole key, as the engine marks it, also for a leaf deep in an object).
    """
    project = read_project(program_dir)
    name = str(project["name"])
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, spec in (project.get("config") or {}).items():
        full_key = key if ":" in key else f"{name}:{key}"
        if isinstance(spec, dict) and "default" in spec:
            config[full_key] = _encode(spec["default"])
        elif not isinstance(spec, dict):
            config[full_key] = _encode(spec)
    stack_file = program_dir / f"Pulumi.{stack}.yaml"
    if stack_file.exists():
        loaded = yaml.safe_load(stack_file.read_text()) or {}
        decrypt = decrypter(stack_file, loaded.get("encryptionsalt"))
        for key, value in (loaded.get("config") or {}).items():
            full_key = key if ":" in key else f"{name}:{key}"
            plain, secure = _decrypted(value, decrypt, full_key)
            config[full_key] = _encode(plain)
            if secure:
                secret_keys.append(full_key)
    return config, secret_keys


def validated_stack_config(program_dir: Path, stack: str) -> StackConfig:
    """A hastack stack file validated as the program validates it under the engine (secure values
    decrypted, their keys secret, the file's `secure:` leaves telling which were); raises ConfigError."""
    config, secret = engine_config(program_dir, stack)
    raw, problems = raw_from_engine(config)
    source = program_dir / f"Pulumi.{stack}.yaml"
    if problems:
        raise ConfigError(source.name, problems)
    keys = [key.partition(":")[2] for key in secret if key.startswith(f"{PROJECT}:")]
    return validate(raw, source.name, keys, secure_paths_in_stack_file(source))


def _decrypted(value: Any, decrypt: Callable[[str, str], str], where: str) -> tuple[Any, bool]:
    """`value` with each `secure:` leaf (at any depth) decrypted, and whether it had one: the engine
    marks the whole key secret then, as here."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        return decrypt(where, str(value["secure"])), True
    if isinstance(value, dict):
        pairs = {key: _decrypted(item, decrypt, f"{where}.{key}") for key, item in value.items()}
        return {key: item for key, (item, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [_decrypted(item, decrypt, f"{where}[{i}]") for i, item in enumerate(value)]
        return [item for item, _ in items], any(s for _, s in items)
    return value, False


def _encode(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)
