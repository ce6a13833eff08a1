"""docs/configuration.md is generated from the config models and the environment profiles: it is
current (`make docs`), it names every key a stack file may hold, each with its docstring, and a key
without a docstring stops the generation instead of leaving a hole."""

from __future__ import annotations

from typing import Any

import pytest

from hastack.config import ENVIRONMENTS, Model, StackConfig, allowed_keys
from hastack.config.load import unwrap_model
from hastack_tools.dev import config_docs
from hastack_tools.dev.docs import main


def key_paths(model: type[Model], prefix: str = "") -> list[str]:
    paths = []
    for key, field in zip(allowed_keys(model), model.model_fields.values(), strict=True):
        nested: Any = unwrap_model(field.annotation)
        is_list = "list[" in str(field.annotation)
        path = f"{prefix}{key}{'[]' if is_list and nested else ''}"
        paths.append(path)
        if nested is not None:
            paths.extend(key_paths(nested, path + "."))
    return paths


def test_the_reference_is_current() -> None:
    assert config_docs.REFERENCE.read_text() == config_docs.generate(), "stale: run make docs"


def test_the_reference_names_every_key_with_its_docstring() -> None:
    text = config_docs.REFERENCE.read_text()
    for path in key_paths(StackConfig):
        assert f"| `{path}` |" in text, path
    assert "| `apps[].autoscaling.targetCPUUtilization` | a whole number from 1 to 100" in text
    assert "`apps[].secretEnv` |" in text and "never in a ConfigMap, output or message" in text


def test_the_environment_table_is_the_profiles() -> None:
    table = config_docs.environment_table()
    assert table.splitlines()[0] == "| | dev | staging | prod |"
    floors = " | ".join(f">= {p.min_replicas}" for p in ENVIRONMENTS.values())
    assert f"| replicas or HPA floor | {floors} |" in table


def test_a_key_without_a_docstring_stops_the_generation() -> None:
    class Undocumented(Model):
        documented: int = 1
        """Has its docstring."""
        bare: int = 2

    with pytest.raises(ValueError, match=r"Undocumented.bare \(x.bare\) has no docstring"):
        config_docs.rows(Undocumented, "x.")


def test_check_mode_names_a_stale_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    current = config_docs.generated_files()
    monkeypatch.setattr(config_docs, "generated_files", lambda: {p: t + "x" for p, t in current.items()})
    assert main(["--check"]) == 1
    monkeypatch.setattr(config_docs, "generated_files", lambda: current)
    assert main(["--check"]) == 0
