"""Reading the stack config: from the engine's strings to validated models, every problem at once."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pulumi
import yaml
from pydantic import ValidationError

from hastack.config import messages
from hastack.config.checks import check, check_environment
from hastack.config.errors import SECRET_STAND_IN, ConfigError, key_path, quote
from hastack.config.messages import allowed_keys, unwrap_model
from hastack.config.models import EnvironmentConfig, Model, Neighbours, StackConfig
from hastack.config.types import PROJECT
from hastack.pulumi_internals.private import engine_config, is_config_secret

KeyPath = tuple[str | int, ...]

M = TypeVar("M", bound=Model)

__all__ = [
    "allowed_keys",
    "load",
    "parse",
    "raw_from_engine",
    "unwrap_model",
    "validate",
    "validate_environment",
]


def parse(model: type[M], raw: Any, source: str, prefix: KeyPath = ()) -> M:
    """`raw` as `model` (its shape and types), or a ConfigError listing every problem; `prefix` is
    where `raw` sits in a stack file's tree (`("calls", 0)`), for the key paths of the messages."""
    try:
        return model.model_validate(dict(raw) if isinstance(raw, Mapping) else raw)
    except ValidationError as error:
        raise ConfigError(source, messages.problems(error.errors(), model, prefix)) from None


def validate_environment(raw: Mapping[str, Any], source: str) -> EnvironmentConfig:
    """The stack-wide keys alone (a namespace's environment): shape, types and the stack-wide rules."""
    environment = parse(EnvironmentConfig, raw, source)
    check_environment(environment, source)
    return environment


def validate(
    raw: Mapping[str, Any],
    source: str,
    secret_keys: Collection[str] | None = None,
    secure_paths: Collection[KeyPath] = (),
    *,
    neighbours: Neighbours | None = None,
) -> StackConfig:
    """Validates the `hastack:` config of one stack; raises ConfigError listing every problem.

    `secret_keys` (the top-level keys the engine marked secret) also checks that stack secrets sit
    only in secretEnv and that secretEnv holds only secure values; None when not known (code).
    `secure_paths`: where the stack file holds `secure:` leaves under apps (the real engine hands the
    program decrypted values, so only the file tells which leaf was the secret).
    `neighbours`: for a stack of one app (a component), the apps it may name (allowFrom, egress).
    """
    stack = parse(StackConfig, raw, source)
    if secret_keys is not None:
        problems = secure_value_problems(stack, secret_keys, secure_paths)
        if problems:
            raise ConfigError(source, problems)
    check(stack, source, neighbours=neighbours)
    return stack


def secure_value_problems(
    stack: StackConfig, secret_keys: Collection[str], secure_paths: Collection[KeyPath] = ()
) -> list[str]:
    """The engine marks a whole top-level key secret when any leaf in it is `secure:`. Stack secrets
    belong in apps[].secretEnv only: elsewhere the value would be used in plain text (a ConfigMap,
    a label). Offline, a secure leaf arrives as the stand-in; under the real engine the stack file's
    `secure:` leaves (`secure_paths`) say where; either way a misplaced one is found by path.
    """
    found = [
        f"{key_path((key,))}: holds a secure value, but only apps[].secretEnv takes stack secrets "
        f"(anything else is used in plain text), got a secret value (not shown)"
        for key in sorted(secret_keys)
        if key != "apps"
    ]
    with_secrets = [(i, app) for i, app in enumerate(stack.apps) if app.secret_env]
    if "apps" not in secret_keys:
        found.extend(
            f"{key_path(('apps', i, 'secretEnv', key))}: must be a secure value (pulumi config set --secret "
            f"--path 'hastack:apps[{i}].secretEnv.{key}' <value>), not plain text in the stack file, "
            f"got a plain value (not shown)"
            for i, app in with_secrets
            for key in sorted(app.secret_env)
        )
        return found
    if not with_secrets:
        found.append(
            f"{key_path(('apps',))}: holds a secure value, but no app has secretEnv; stack secrets go "
            f"under apps[].secretEnv (anything else is used in plain text), got a secret value (not shown)"
        )
    tree = stack.model_dump(by_alias=True, exclude_none=True)["apps"]
    stand_ins = _leaf_paths(tree, lambda value: value == SECRET_STAND_IN)
    found.extend(
        f"{key_path(('apps', *path))}: is a secure value; stack secrets go under secretEnv (anything else "
        f"is used in plain text), got a secret value (not shown)"
        for path in sorted(set(stand_ins) | set(secure_paths), key=str)
        if "secretEnv" not in path
    )
    return found


def _is_secure_leaf(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"secure"}


def _leaf_paths(tree: Any, is_leaf: Callable[[Any], bool], prefix: KeyPath = ()) -> list[KeyPath]:
    """Key paths of the leaves `is_leaf` picks (the stand-in offline, `{secure: ...}` in a stack file)."""
    if is_leaf(tree):
        return [prefix]
    if isinstance(tree, Mapping):
        return [p for key, item in tree.items() for p in _leaf_paths(item, is_leaf, (*prefix, key))]
    if isinstance(tree, list):
        return [p for index, item in enumerate(tree) for p in _leaf_paths(item, is_leaf, (*prefix, index))]
    return []


def secure_paths_in_stack_file(path: Path) -> list[KeyPath]:
    """Where `path` (a Pulumi.<stack>.yaml) holds `secure:` leaves under hastack:apps; none when the
    file is absent (the engine was given another config file) or unreadable (the engine read it)."""
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return []
    config = document.get("config") if isinstance(document, Mapping) else None
    apps = config.get(f"{PROJECT}:apps") if isinstance(config, Mapping) else None
    return _leaf_paths(apps, _is_secure_leaf)


_OBJECT_KEYS = ("ingress", "gateway", "apps")


def raw_from_engine(config: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """Turns the engine's `hastack:*` string values into a tree; structured keys are JSON-decoded."""
    raw: dict[str, Any] = {}
    problems: list[str] = []
    for full_key, value in sorted(config.items()):
        namespace, _, key = full_key.partition(":")
        if namespace != PROJECT:
            continue
        if key in _OBJECT_KEYS:
            try:
                raw[key] = json.loads(value)
            except json.JSONDecodeError:
                problems.append(
                    f"{key_path((key,))}: must be a structured value (object or list), got {quote(value)}"
                )
        else:
            raw[key] = value
    return raw, problems


def load(stack_name: str | None = None) -> StackConfig:
    """Reads and validates this stack's `hastack:` config from the running Pulumi program."""
    stack_name = stack_name or pulumi.get_stack()
    source = f"Pulumi.{stack_name}.yaml"
    config = engine_config()
    raw, problems = raw_from_engine(config)
    if problems:
        raise ConfigError(source, problems)
    secret_keys = [
        key.partition(":")[2] for key in config if key.startswith(f"{PROJECT}:") and is_config_secret(key)
    ]
    secure_paths = secure_paths_in_stack_file(Path.cwd() / source) if "apps" in secret_keys else []
    return validate(raw, source, secret_keys, secure_paths)
