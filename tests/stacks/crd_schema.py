"""Validates custom resources against the CRD schemas shipped in tests/data/crds, strictly: an
unknown field is an error, as with server-side field validation `Strict`.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ValidationError = jsonschema.ValidationError
"""What `validate` raises, for callers that need not import jsonschema themselves."""

CRD_DIR = Path(__file__).resolve().parents[1] / "data" / "crds"


def _strict(schema: Any) -> Any:
    """Closes every object schema that lists properties, unless it preserves unknown fields."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: _strict(value) for key, value in schema.items()}
    if (
        "properties" in closed
        and "additionalProperties" not in closed
        and not closed.get("x-kubernetes-preserve-unknown-fields")
    ):
        closed["additionalProperties"] = False
    return closed


@cache
def schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> strict JSON schema of every served version of every shipped CRD."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served"):
                    schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
                    schema["properties"]["metadata"] = {"type": "object"}
                    found[(f"{group}/{version['name']}", kind)] = _strict(schema)
    return found


def is_custom_resource(manifest: dict[str, Any]) -> bool:
    return (str(manifest.get("apiVersion")), str(manifest.get("kind"))) in schemas()


def validate(manifest: dict[str, Any]) -> None:
    """Raises jsonschema.ValidationError when the manifest does not match its CRD schema."""
    schema = schemas()[(str(manifest["apiVersion"]), str(manifest["kind"]))]
    jsonschema.validate(manifest, schema, cls=jsonschema.Draft4Validator)  # OpenAPI 3.0 is draft-4 like
