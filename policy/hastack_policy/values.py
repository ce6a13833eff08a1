"""Reading values that may be unknown during a preview: a rule reads through these, and a value it
needs that is not known yet ends that check without a finding (UnknownValueError), never a false
violation. The sentinels themselves: hastack.wire."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from hastack.wire import is_unknown


class UnknownValueError(Exception):
    """A value a check needs is unknown during preview: the check is skipped, never failed."""


def contains_unknown(value: Any) -> bool:
    """True when an unknown sentinel sits anywhere inside `value`."""
    if is_unknown(value):
        return True
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False


def known(value: Any) -> Any:
    """Returns `value`, or raises UnknownValueError so the caller's check is skipped."""
    if is_unknown(value):
        raise UnknownValueError
    return value


def dig(obj: Any, *path: str | int, default: Any = None) -> Any:
    """Walks dicts/lists along `path`; missing → default; an unknown on the way → UnknownValueError."""
    current = known(obj)
    for step in path:
        if isinstance(step, int):
            if not isinstance(current, list) or step >= len(current):
                return default
            current = known(current[step])
        else:
            if not isinstance(current, dict) or step not in current:
                return default
            current = known(current[step])
    return default if current is None else current


def as_list(value: Any) -> list[Any]:
    """A known list (None → []); a non-list is treated as empty.

    Unknown, or holding an unknown element → UnknownValueError: a list with a hole cannot prove
    that something is missing from it.
    """
    value = known(value)
    if not isinstance(value, list):
        return []
    if any(is_unknown(item) for item in value):
        raise UnknownValueError
    return value


def as_dict(value: Any) -> dict[str, Any]:
    """A known dict (None → {}); unknown → UnknownValueError."""
    value = known(value)
    return value if isinstance(value, dict) else {}


def as_int(value: Any) -> int | None:
    """Numbers arrive as floats over protobuf: compare values, never types. None when not a number."""
    value = known(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def each_known(items: Iterable[Any]) -> Iterator[Any]:
    """Yields the items of a list, skipping unknown elements (they cannot be judged yet)."""
    for item in items:
        if not is_unknown(item):
            yield item
