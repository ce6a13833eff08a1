"""Environment switches for hastack's opt-out speed-ups: one reading of "off" for all of them."""

from __future__ import annotations

import os
from collections.abc import Mapping

OFF_VALUES = frozenset({"0", "false", "off", "no"})
"""Values (any case, surrounding blanks ignored) that switch a speed-up off; anything else is on."""


def switched_on(name: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether switch `name` is on (the default when unset) in `environ` (the process environment if None)."""
    value = (os.environ if environ is None else environ).get(name, "1")
    return value.strip().lower() not in OFF_VALUES
