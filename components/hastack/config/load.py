"""Reading the stack config: from the engine's strings to validated models, every problem at once."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any, get_args, get_origin

import pulumi
from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from hastack.config.checks import check
from hastack.config.errors import ConfigError, key_path, show
from hastack.config.models import Model, StackConfig
from hastack.config.types import PROJECT
from hastack.pulumi_private import engine_config


def _model_at(loc: tuple[str | int, ...]) -> type[Model] | None:
    """The model class found at a key path, to list the keys it allows."""
    current: Any = StackConfig
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, Model)):
            return None
        field = next(
            (f for name, f in current.model_fields.items() if (f.alias or to_camel(name)) == part),
            None,
        )
        if field is None:
            return None
        current = unwrap_model(field.annotation)
    return current if isinstance(current, type) and issubclass(current, Model) else None


def unwrap_model(annotation: Any) -> Any:
    """The Model inside Optional[...], list[...] or Annotated[...], if any."""
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return annotation
    for arg in get_args(annotation) if get_origin(annotation) is not None else ():
        found = unwrap_model(arg)
        if found is not None:
            return found
    return None


def allowed_keys(model: type[Model]) -> list[str]:
    return [field.alias or to_camel(name) for name, field in model.model_fields.items()]


def _describe(error: Mapping[str, Any]) -> str:
    loc = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        parent = _model_at(loc[:-1])
        keys = allowed_keys(parent) if parent else []
        hint = difflib.get_close_matches(str(loc[-1]), keys, n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        return f"{key_path(loc)}: unknown key{suggestion}; allowed keys: {', '.join(keys)}"
    if error["type"] == "missing":
        return f"{key_path(loc)}: required key is missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{key_path(loc)}: {message}, got {show(error.get('input'))}"


def validate(raw: Mapping[str, Any], source: str) -> StackConfig:
    """Validates the `hastack:` config of one stack; raises ConfigError listing every problem."""
    try:
        stack = StackConfig.model_validate(dict(raw))
    except ValidationError as error:
        raise ConfigError(source, [_describe(e) for e in error.errors()]) from None
    check(stack, source)
    return stack


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
                    f"{key_path((key,))}: must be a structured value (object or list), got {show(value)}"
                )
        else:
            raw[key] = value
    return raw, problems


def load(stack_name: str | None = None) -> StackConfig:
    """Reads and validates this stack's `hastack:` config from the running Pulumi program."""
    stack_name = stack_name or pulumi.get_stack()
    source = f"Pulumi.{stack_name}.yaml"
    raw, problems = raw_from_engine(engine_config())
    if problems:
        raise ConfigError(source, problems)
    return validate(raw, source)
