"""How config problems are reported: one error listing every problem with its key path."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pulumi

from hastack.config.types import PROJECT


class ConfigError(pulumi.RunError):
    """Invalid stack config; raised before any resource is registered. RunError prints no traceback."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {source}: {problem}" for problem in problems)
        super().__init__(f"invalid stack config ({len(problems)} problem(s)):\n{lines}")


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


def show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else repr(value)
