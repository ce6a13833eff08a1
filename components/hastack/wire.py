"""Values as the engine's wire carries them, in one place for the components, the pack, the tools and
the tests: a protobuf Struct has one number type (2 arrives as 2.0), and a value not known yet
(during a preview) travels as a sentinel string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""The sentinel the engine sends for a value not known during a preview (the SDK's `rpc.UNKNOWN`)."""

UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        UNKNOWN,  # string (what the Go engine sends for every unknown)
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)
"""Every type's unknown sentinel (pulumi-policy's list)."""


def is_unknown(value: Any) -> bool:
    """True for the engine's unknown sentinels (any type)."""
    return isinstance(value, str) and value in UNKNOWN_SENTINELS


def to_wire(value: Any) -> Any:
    """Plain data as the engine marshals it: numbers as floats, an SDK `Unknown` as the sentinel,
    anything else that is not JSON as its text."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_wire(v) for v in value]
    if type(value).__name__ == "Unknown":
        return UNKNOWN
    return str(value)


def whole_numbers(value: Any, *, sort_keys: bool = False) -> Any:
    """Data from the wire with every whole float back to the int it was written as (the config models
    are strict, and Kubernetes wants integers); inside an Output once it resolves. `sort_keys` also
    orders maps by key, since a Struct keeps no order and a render must be reproducible."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        keys = sorted(value) if sort_keys else value
        return {key: whole_numbers(value[key], sort_keys=sort_keys) for key in keys}
    if isinstance(value, list):
        return [whole_numbers(item, sort_keys=sort_keys) for item in value]
    if isinstance(value, pulumi.Output):
        return value.apply(lambda known: whole_numbers(known, sort_keys=sort_keys))
    return value


def show(value: Any, *, unset: str = "unset") -> str:
    """A value in words, as messages print it: whole numbers as integers (the wire makes every number
    a float), booleans as YAML writes them, nothing as `unset` (or the caller's word), an unknown as
    what it is."""
    if value is None:
        return unset
    if is_unknown(value):
        return "unknown until deploy"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
