"""How config problems are reported: one error listing every problem with its key path, one a line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pulumi

from hastack.config.types import PROJECT


class ConfigError(pulumi.RunError):
    """Invalid stack config; raised before any resource is registered. RunError prints no traceback."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {source}: {problem}" for problem in problems)
        super().__init__(f"invalid stack config ({count(len(problems), 'problem')}):\n{lines}")


def count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def key_path(loc: Iterable[str | int]) -> str:
    """`("apps", 1, "autoscaling")` -> `hastack:apps[1].autoscaling`."""
    text = PROJECT
    for index, part in enumerate(loc):
        if part == "[key]":  # pydantic's marker for "the key itself was invalid"
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += (":" if index == 0 else ".") + part
    return text


SECRET_STAND_IN = "[secret]"
"""Shown instead of a secret value; also what a runner without the stack's key (hastack_tools'
mockrun) passes for a `secure:` value it cannot decrypt."""

SECRET_KEYS = frozenset({"secretEnv", "secure"})
"""Keys whose values are secret wherever they sit in a config tree (stack secrets, ciphertext)."""


def redacted(value: Any) -> Any:
    """`value` with everything under a secret key replaced by the stand-in, for messages."""
    if isinstance(value, Mapping):
        return {
            key: (_stand_in(item) if key in SECRET_KEYS else redacted(item)) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redacted(item) for item in value]
    return value


def _stand_in(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict.fromkeys(value, SECRET_STAND_IN)
    return SECRET_STAND_IN


def quote(value: Any) -> str:
    """A config value as an error message quotes it (text in quotes, the rest as JSON: it names what
    the stack file holds); secrets (see `redacted`) never appear."""
    value = redacted(value)
    return json.dumps(value) if not isinstance(value, str) else repr(value)
