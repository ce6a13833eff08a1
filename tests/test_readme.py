"""The README's config reference names every key the config model accepts."""

from __future__ import annotations

import re
from typing import Any

from hastack.config import Model, StackConfig, allowed_keys
from hastack.config.load import unwrap_model
from tests.conftest import REPO


def key_paths(model: type[Model], prefix: str = "") -> list[str]:
    paths = []
    for name, field in model.model_fields.items():
        key = allowed_keys(model)[list(model.model_fields).index(name)]
        nested: Any = unwrap_model(field.annotation)
        is_list = "list[" in str(field.annotation)
        path = f"{prefix}{key}{'[]' if is_list and nested else ''}"
        paths.append(path)
        if nested is not None:
            paths.extend(key_paths(nested, path + "."))
    return paths


def test_config_reference_names_every_key() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Config reference", 1)[1].split("\n## ", 1)[0]
    missing = [
        path
        for path in key_paths(StackConfig)
        if not re.search(r"[`./]" + re.escape(path.rsplit(".", 1)[-1].removesuffix("[]")) + r"\b", section)
    ]
    assert missing == []
    assert "`apps[].autoscaling.targetCPUUtilization`" in section


def test_the_python_snippet_runs_and_deploys_a_prod_app() -> None:
    """The README snippet for another program, run as written under mocks: the computed image is deployed."""
    from hastack_tools.dev.mockrun import run_function
    from tests.conftest import objects

    section = (REPO / "README.md").read_text().split("## Using the components from another program", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    run = run_function(lambda: exec(compile(code, "README.md", "exec"), {}), project="consumer", stack="prod")
    (deployment,) = objects(run, "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "ghcr.io/acme/web@sha256:" + "a" * 64
    assert len(objects(run, "PodDisruptionBudget")) == 1
    assert len(objects(run, "HorizontalPodAutoscaler")) == 1
