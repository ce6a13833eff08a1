"""pydantic's validation errors in hastack's words: one line per problem, with its key path, the value
found and the form the key allows (the `form` descriptions in types.py, or what the model says).

A mistake is reported once: the errors pydantic raises per member of a union (`int | str`) become one
line, and a required key is not reported missing when an unknown key beside it is its misspelling.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeGuard, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo

from hastack.config.errors import SECRET_KEYS, count, key_path, quote
from hastack.config.models import Model, StackConfig
from hastack.wire import show

Loc = tuple[str | int, ...]

_UNIT = re.compile(r"^\s*(\d+)\s*([A-Za-z%]+)\s*$")
_DIGITS = re.compile(r"^\s*-?\d+\s*$")


def allowed_keys(model: type[Model]) -> list[str]:
    return [field.alias or to_camel(name) for name, field in model.model_fields.items()]


def field_of(model: type[Model], key: str | int) -> FieldInfo | None:
    """The model's field written as `key` in a stack file (its camelCase alias)."""
    return next(
        (f for name, f in model.model_fields.items() if (f.alias or to_camel(name)) == key),
        None,
    )


def _is_model(annotation: Any) -> TypeGuard[type[Model]]:
    return isinstance(annotation, type) and issubclass(annotation, Model)


def unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The type without Annotated[...] and `| None`, and the metadata Annotated carried (outermost last)."""
    metadata: list[Any] = []
    while True:
        if get_origin(annotation) is Annotated:
            annotation, *more = get_args(annotation)
            metadata = [*more, *metadata]
            continue
        if get_origin(annotation) in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation, metadata


def unwrap_model(annotation: Any) -> Any:
    """The Model inside Optional[...], list[...] or Annotated[...], if any."""
    if _is_model(annotation):
        return annotation
    for arg in get_args(annotation) if get_origin(annotation) is not None else ():
        found = unwrap_model(arg)
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class Place:
    """Where an error points: the key path as written, and what the schema expects there."""

    loc: Loc
    annotation: Any
    """The type at that place (None: a key no model has)."""
    field: FieldInfo | None
    """The model field the last key names, if it names one."""
    parent: type[Model] | None
    """The model the last key sits in (its allowed keys)."""
    key_error: bool = False
    """The error is about a map's key, not its value."""


def locate(loc: Sequence[str | int], root: type[Model] = StackConfig) -> Place:
    """Follows a pydantic error location through the models from `root`: union member tags (`int`,
    `str`, `function-after[...]`) and the `[key]` marker are dropped from the path as written."""
    annotation: Any = root
    field: FieldInfo | None = None
    parent: type[Model] | None = None
    clean: list[str | int] = []
    key_error = False
    for part in loc:
        if part == "[key]":
            key_error = True
            args = get_args(unwrap(annotation)[0]) if annotation is not None else ()
            annotation = args[0] if len(args) == 2 else None
            continue
        current, _ = unwrap(annotation) if annotation is not None else (None, [])
        origin = get_origin(current)
        if _is_model(current) and isinstance(part, str):
            parent, field = current, field_of(current, part)
            annotation = field.annotation if field is not None else None
        elif origin is list and isinstance(part, int):
            annotation, field = get_args(current)[0], None
        elif origin is dict and isinstance(part, str):
            annotation, field = get_args(current)[1], None
        elif origin in (Union, types.UnionType) and isinstance(part, str):
            continue  # which member of `int | str` pydantic tried: not a key
        else:
            annotation, field = None, None
        clean.append(part)
    return Place(tuple(clean), annotation, field, parent, key_error)


def _bounds(metadata: Iterable[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in metadata:
        for constraint in [item, *getattr(item, "metadata", [])]:
            for kind, name in (
                (Ge, "ge"),
                (Gt, "gt"),
                (Le, "le"),
                (Lt, "lt"),
                (MinLen, "min_length"),
                (MaxLen, "max_length"),
            ):
                if isinstance(constraint, kind):
                    found[name] = getattr(constraint, name)
    return found


def _described(metadata: Iterable[Any]) -> str | None:
    for item in reversed(list(metadata)):
        description = getattr(item, "description", None)
        if isinstance(item, FieldInfo) and description:
            return str(description)
    return None


def form(annotation: Any, field: FieldInfo | None = None) -> str:
    """What a value of this type looks like, as a noun phrase ("a whole number from 1 to 100")."""
    if annotation is None:
        return "a key this stack file allows"
    base, metadata = unwrap(annotation)
    if field is not None:
        metadata = [*metadata, *field.metadata]
        if field.description:
            return field.description
    described = _described(metadata)
    if described:
        return described
    bounds = _bounds(metadata)
    origin = get_origin(base)
    if origin is Literal:
        return "one of " + ", ".join(str(v) for v in get_args(base))
    if base is bool:
        return "true or false"
    if base is int:
        low, high = bounds.get("ge", bounds.get("gt", -1) + 1 if "gt" in bounds else None), bounds.get("le")
        if low is not None and high is not None:
            return f"a whole number from {low} to {high}"
        return f"a whole number of at least {low}" if low is not None else "a whole number"
    if base is str:
        return "text" if not bounds.get("min_length") else "non-empty text"
    if _is_model(base):
        keys = [
            f"{key} (required)" if f.is_required() else key
            for key, f in zip(allowed_keys(base), base.model_fields.values(), strict=True)
        ]
        return "an object with " + ", ".join(keys)
    if origin is list:
        least = bounds.get("min_length")
        items = form(get_args(base)[0])
        size = f" of at least {count(least, 'item')}" if least else ""
        return f"a list{size}, each item {items}"
    if origin is dict:
        key, value = get_args(base)
        return f"a map, each key {form(key)} and each value {form(value)}"
    if origin in (Union, types.UnionType):
        return " or ".join(form(member) for member in get_args(base))
    return str(getattr(base, "__name__", base))


def _is_secret(place: Place) -> bool:
    return bool(SECRET_KEYS & {str(part) for part in place.loc})


def _shown(place: Place, value: Any) -> str:
    return "a secret value (not shown)" if _is_secret(place) else quote(value)


def _hint(error_type: str, value: Any, place: Place) -> str:
    """A fix for the common ways a value has the wrong type; it quotes no secret."""
    if _is_secret(place):
        scalar = isinstance(value, bool | int | float)
        return "; quote it: stack secrets are text" if error_type == "string_type" and scalar else ""
    base = unwrap(place.annotation)[0] if place.annotation is not None else None
    if error_type.startswith("int") and isinstance(value, str):
        if _DIGITS.match(value):
            return f"; write it without quotes: {value.strip()}"
        unit = _UNIT.match(value)
        if unit:
            return f"; write the number alone, without {unit.group(2)!r}: {unit.group(1)}"
    if error_type.startswith("int") and isinstance(value, float):
        return "; a fraction is not allowed here"
    if error_type == "string_type" and isinstance(value, bool | int | float):
        read_as = "a boolean" if isinstance(value, bool) else "a number"
        return f'; quote it, "{show(value)}" (unquoted, YAML reads {read_as})'
    if error_type.startswith("bool") and isinstance(value, str):
        return "; write true or false without quotes"
    if error_type == "list_type" and isinstance(value, dict):
        return "; write one entry per item, each starting with '-' (a map's keys are not a list)"
    if error_type == "list_type" and not isinstance(value, list):
        return f"; a single item goes in brackets: [{show(value)}]"
    if error_type in ("model_type", "dict_type", "model_attributes_type") and _is_model(base):
        required = [
            key
            for key, f in zip(allowed_keys(base), base.model_fields.values(), strict=True)
            if f.is_required()
        ]
        if len(required) == 1 and not isinstance(value, list | dict):
            return f" (did you mean {{{required[0]}: {show(value)}}}?)"
        if isinstance(value, list):
            return " (an object, not a list: remove the '-' or the brackets)"
    return ""


def _did_you_mean(value: Any, choices: Iterable[Any]) -> str:
    """The choice the value is a misspelling, an abbreviation or a longer form of, if any."""
    if not isinstance(value, str):
        return ""
    names = [str(c) for c in choices]
    close = (
        difflib.get_close_matches(value, names, n=1)
        or [name for name in names if value.lower().startswith(name) or name.startswith(value.lower())][:1]
    )
    return f" (did you mean {close[0]!r}?)" if close else ""


def describe(error: Mapping[str, Any], root: type[Model] = StackConfig, prefix: Loc = ()) -> str:
    """One problem as `hastack:<key path>: <what is allowed>, got <value>` (`prefix` is where `root`
    sits in the config tree)."""
    place = locate(error["loc"], root)
    path = key_path((*prefix, *place.loc))
    kind = str(error["type"])
    value = error.get("input")
    if kind == "extra_forbidden":
        keys = allowed_keys(place.parent) if place.parent is not None else []
        return f"{path}: unknown key{_did_you_mean(place.loc[-1], keys)}; allowed keys: {', '.join(keys)}"
    if kind == "missing":
        return f"{path}: required key is missing; set it to {form(place.annotation, place.field)}"
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
        return f"{path}: {message}{' (the key)' if place.key_error else ''}, got {_shown(place, value)}"
    allowed = form(place.annotation, place.field)
    if kind == "literal_error":
        choices = get_args(unwrap(place.annotation)[0])
        return f"{path}: must be {allowed}{_did_you_mean(value, choices)}, got {_shown(place, value)}"
    return f"{path}: must be {allowed}{_hint(kind, value, place)}, got {_shown(place, value)}"


def problems(
    errors: Sequence[Mapping[str, Any]], root: type[Model] = StackConfig, prefix: Loc = ()
) -> list[str]:
    """Every error once, in hastack's words: union members merged, derived `missing` errors dropped."""
    by_place: dict[Loc, Mapping[str, Any]] = {}
    for error in errors:
        place = locate(error["loc"], root)
        by_place.setdefault(place.loc, error)  # the first member's error speaks for the union
    misspelt: set[Loc] = set()
    for loc, error in by_place.items():
        if error["type"] == "extra_forbidden":
            parent = locate(error["loc"], root).parent
            keys = allowed_keys(parent) if parent is not None else []
            misspelt.update(
                (*loc[:-1], match) for match in difflib.get_close_matches(str(loc[-1]), keys, n=1)
            )
    return [
        describe(error, root, prefix)
        for loc, error in by_place.items()
        if not (error["type"] == "missing" and loc in misspelt)
    ]
