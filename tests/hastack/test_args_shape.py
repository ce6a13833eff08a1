"""One shape for an app's arguments: the component package's schema (inferred from hastack.args'
TypedDicts, what YAML and every other language sees) matches the config models key for key, with
the same required keys and the same kind of value, all the way down."""

from __future__ import annotations

import json
import types
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from pulumi.provider.experimental.component import ComponentProvider

from hastack.config import AppConfig, CallConfig, EnvironmentConfig, Model, StackConfig, allowed_keys
from hastack.provider import COMPONENTS

TYPE_PREFIX = "#/types/"


@cache
def schema() -> dict[str, Any]:
    provider = ComponentProvider(COMPONENTS, "hastack", None, "0.0.0")
    assert provider.schema is not None
    loaded: dict[str, Any] = json.loads(provider.schema)
    return loaded


def _unwrap(annotation: Any) -> Any:
    """The annotation without Annotated[...] and `| None`."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return _unwrap(members[0])
        return tuple(_unwrap(m) for m in members)
    return annotation


def _kind(annotation: Any) -> str:
    """The schema kind a model annotation must appear as."""
    annotation = _unwrap(annotation)
    if isinstance(annotation, tuple):
        return "any"  # int | str (a count or a percentage)
    origin = get_origin(annotation)
    if origin is list:
        return "array"
    if origin is dict:
        return "object"
    if origin is Literal or annotation is str:
        return "string"
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "integer"
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return "ref"
    raise AssertionError(f"no schema kind for {annotation!r}")


def _schema_kind(prop: dict[str, Any]) -> str:
    ref = str(prop.get("$ref", ""))
    if ref == "pulumi.json#/Any":
        return "any"
    if ref.startswith(TYPE_PREFIX):
        return "ref"
    return str(prop["type"])


def _item(annotation: Any) -> Any:
    """The annotation of a list's items or a dict's values."""
    return _unwrap(get_args(_unwrap(annotation))[-1])


def compare(
    model: type[Model],
    properties: dict[str, Any],
    required: set[str],
    where: str,
    *,
    renamed: dict[str, str] | None = None,
    left_out: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[str]:
    """Every difference between a model and a schema object, recursively (`where` names the object)."""
    renamed = renamed or {}
    fields = dict(zip(allowed_keys(model), model.model_fields.values(), strict=True))
    keys = {renamed.get(k, k): f for k, f in fields.items() if k not in left_out}
    found = [
        f"{where}: {key} is in the config model but not in the schema" for key in keys.keys() - properties
    ]
    found += [
        f"{where}: {key} is in the schema but not in the config model" for key in properties.keys() - keys
    ]
    for key in sorted(keys.keys() & properties.keys()):
        field, prop = keys[key], properties[key]
        if field.is_required() != (key in required):
            found.append(
                f"{where}.{key}: required in {'the model' if field.is_required() else 'the schema'} only"
            )
        kind, schema_kind = _kind(field.annotation), _schema_kind(prop)
        if kind != schema_kind:
            found.append(f"{where}.{key}: {kind} in the model, {schema_kind} in the schema")
            continue
        nested, nested_prop = _unwrap(field.annotation), prop
        if kind in ("array", "object"):
            nested = _item(field.annotation)
            nested_prop = prop.get("items") or prop.get("additionalProperties") or {}
            if isinstance(nested, type) and issubclass(nested, Model):
                if _schema_kind(nested_prop) != "ref":
                    found.append(f"{where}.{key}[]: an object in the model, not in the schema")
                    continue
            else:
                continue
        if isinstance(nested, type) and issubclass(nested, Model):
            found += compare_ref(nested, nested_prop["$ref"], f"{where}.{key}")
    return found


def compare_ref(model: type[Model], ref: str, where: str) -> list[str]:
    definition = schema()["types"][ref.removeprefix(TYPE_PREFIX)]
    return compare(model, definition.get("properties", {}), set(definition.get("required", [])), where)


def test_the_app_arguments_are_the_config_model_key_for_key() -> None:
    resource = schema()["resources"]["hastack:index:HighlyAvailableApp"]
    inputs = dict(resource["inputProperties"])
    required = set(resource.get("requiredInputs", []))
    for own in ("environment", "namespace", "calls"):  # the component's context, not the app's config
        assert own in inputs
    environment = inputs.pop("environment")
    del inputs["namespace"], inputs["calls"]
    assert compare(AppConfig, inputs, required, "HighlyAvailableApp", left_out={"name"}) == []
    definition = schema()["types"][environment["$ref"].removeprefix(TYPE_PREFIX)]
    problems = compare(
        StackConfig,
        definition["properties"],
        set(definition.get("required", [])),
        "HighlyAvailableApp.environment",
        renamed={"environment": "name"},
        left_out={"namespace", "apps"},
    )
    assert problems == []


def test_calls_and_a_namespace_are_their_config_models_key_for_key() -> None:
    """`calls` items are CallConfig's keys; IsolatedNamespace takes the environment model's keys (the
    `environment` argument and `namespace`)."""
    app = schema()["resources"]["hastack:index:HighlyAvailableApp"]["inputProperties"]
    assert compare_ref(CallConfig, app["calls"]["items"]["$ref"], "HighlyAvailableApp.calls[]") == []
    namespace = schema()["resources"]["hastack:index:IsolatedNamespace"]
    inputs = dict(namespace["inputProperties"])
    assert set(inputs) == {"environment", "namespace"} <= set(namespace["requiredInputs"])
    definition = schema()["types"][inputs["environment"]["$ref"].removeprefix(TYPE_PREFIX)]
    problems = compare(
        EnvironmentConfig,
        definition["properties"],
        set(definition.get("required", [])),
        "IsolatedNamespace.environment",
        renamed={"environment": "name"},
        left_out={"namespace"},
    )
    assert problems == []


def test_a_group_app_is_the_config_model_key_for_key_with_its_name() -> None:
    resource = schema()["resources"]["hastack:index:AppGroup"]
    apps = resource["inputProperties"]["apps"]
    assert apps["type"] == "array"
    assert compare_ref(AppConfig, apps["items"]["$ref"], "AppGroup.apps[]") == []
    assert {"environment", "namespace", "apps"} <= set(resource["requiredInputs"])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"drop": "backendHealth"}, "ingress: backendHealth is in the config model but not in the schema"),
        ({"add": "retry"}, "ingress: retry is in the schema but not in the config model"),
    ],
)
def test_the_comparison_finds_a_drift(change: dict[str, str], expected: str) -> None:
    """Guards the tests above: a key missing from the TypedDicts, or one too many, is reported."""
    resource = schema()["resources"]["hastack:index:HighlyAvailableApp"]
    ingress_type = schema()["types"][resource["inputProperties"]["ingress"]["$ref"].removeprefix(TYPE_PREFIX)]
    properties = dict(ingress_type["properties"])
    if "drop" in change:
        del properties[change["drop"]]
    else:
        properties[change["add"]] = {"type": "integer"}
    from hastack.config import AppIngressConfig

    problems = compare(
        AppIngressConfig, properties, set(ingress_type["required"]), "HighlyAvailableApp.ingress"
    )
    assert [p for p in problems if expected in p], problems
