"""The README runs as written: its config reference names every key the model accepts, and the
snippets and commands for another program or project do what it says."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from hastack.config import Model, StackConfig, allowed_keys
from hastack.config.load import unwrap_model
from hastack_tools.common.checkout import REPO_ROOT


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
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## Config reference", 1)[1].split("\n## ", 1)[0]
    missing = [
        path
        for path in key_paths(StackConfig)
        if not re.search(r"[`./]" + re.escape(path.rsplit(".", 1)[-1].removesuffix("[]")) + r"\b", section)
    ]
    assert missing == []
    assert "`apps[].autoscaling.targetCPUUtilization`" in section


def python_snippets() -> list[str]:
    """Every ```python block of the README, in order."""
    return re.findall(r"```python\n(.*?)```", (REPO_ROOT / "README.md").read_text(), flags=re.DOTALL)


def test_the_python_snippet_runs_and_deploys_two_prod_apps_that_can_talk() -> None:
    """The README snippet for another program, run as written under mocks: the computed image is
    deployed, and web, which api admits, may connect to api on api's port."""
    from hastack_tools.dev.mockrun import run_function
    from tests.conftest import objects

    section = (
        (REPO_ROOT / "README.md").read_text().split("## Using the components from another program", 1)[1]
    )
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    run = run_function(lambda: exec(compile(code, "README.md", "exec"), {}), project="consumer", stack="prod")
    images = {
        d["metadata"]["labels"]["app.kubernetes.io/name"]: d["spec"]["template"]["spec"]["containers"][0][
            "image"
        ]
        for d in objects(run, "Deployment")
    }
    assert images["web"] == "ghcr.io/acme/web@sha256:" + "a" * 64
    assert len(objects(run, "PodDisruptionBudget")) == len(objects(run, "HorizontalPodAutoscaler")) == 2
    (web,) = [
        p
        for p in objects(run, "NetworkPolicy")
        if p["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "web"}}
    ]
    assert {
        "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}}}],
        "ports": [{"protocol": "TCP", "port": 9090}],
    } in web["spec"]["egress"]
    assert run.outputs["api"] == "api.storefront.svc.cluster.local"


@pytest.mark.parametrize("index", range(len(python_snippets())))
def test_every_python_snippet_passes_the_prod_gate(index: int, tmp_path: Path) -> None:
    """Each snippet as a program of its own, through the offline gate with prod's policy config."""
    from hastack_tools.dev.gate import render, run_gate

    program = tmp_path / "snippet"
    program.mkdir()
    (program / "Pulumi.yaml").write_text("name: readme-snippet\nruntime: python\n")
    (program / "__main__.py").write_text(python_snippets()[index])
    prod = REPO_ROOT / "policy" / "config" / "prod.json"
    result = run_gate(program, policy_config=prod)
    assert result.exit_code == 0, render(result)
    assert result.resources > 10


def test_own_project_section_runs_every_block_it_shows() -> None:
    """The "Use hastack in your own project" blocks are all executed: the Python block by the
    `consumer_project` fixture, the commands block below, the pack block and the YAML program by
    tests/integration/test_examples.py."""
    from tests.consumer import readme_blocks

    python_block, pack_block, commands_block = readme_blocks("bash")
    assert 'pip" install' in python_block and '"$HASTACK[gate]"' in python_block
    assert "-m hastack_policy.pack" in pack_block and "--policy-pack policy" in pack_block
    assert "hastack render" in commands_block and "hastack-gate" in commands_block
    (yaml_block,) = readme_blocks("yaml")
    assert "<hastack clone>/provider" in yaml_block
    assert readme_blocks("python") == [], "a Python snippet here would need a test of its own"


def test_own_project_python_block_gives_a_venv_outside_the_repo_where_the_example_deploys_two_apps(
    consumer_project: Any,
) -> None:
    """The Python block as written (a fresh venv, `pip install` of this clone), then the example it
    copies, run under Pulumi's mocks in that venv: two HA apps."""
    from tests.consumer import ConsumerProject

    assert isinstance(consumer_project, ConsumerProject)
    assert REPO_ROOT not in consumer_project.venv.parents
    result = consumer_project.run_under_mocks({"environment": "dev", "namespace": "shop"})
    assert "error" not in result, result.get("trace")
    kinds = [(r["type"], r["name"]) for r in result["resources"]]
    for app in ("api", "web"):
        assert ("hastack:index:HighlyAvailableApp", app) in kinds
        assert ("kubernetes:apps/v1:Deployment", app) in kinds
        assert ("kubernetes:policy/v1:PodDisruptionBudget", app) in kinds


def test_own_project_commands_block_renders_and_gates_the_example_from_its_venv(
    consumer_project: Any,
) -> None:
    """The installed commands as written, in the project outside the repo (its venv from the README's
    Python block): the example renders with notes, and its dev stack passes the gate."""
    from tests.consumer import ConsumerProject, block_failed, readme_blocks

    assert isinstance(consumer_project, ConsumerProject)
    done = consumer_project.run_block(readme_blocks("bash")[2], timeout=600)
    assert done.returncode == 0, block_failed("the README's commands block", done)
    assert "rendered " in done.stdout and "note: api, web: probed with GET /readyz" in done.stdout
    assert (consumer_project.folder / "rendered" / "api.yaml").exists()
    assert "config/dev.json of the installed hastack_policy" in done.stdout
    assert done.stdout.splitlines()[-1].startswith("hastack-ha: no mandatory violation")


def test_a_wheel_builds_offline_with_both_import_names_and_the_pack_configs(tmp_path: Path) -> None:
    """`pip wheel --no-deps <clone>` (the README's alternative to a path install), without the network."""
    import subprocess
    import sys
    import zipfile

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--wheel-dir",
            str(tmp_path),
            str(REPO_ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("hastack-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (
        "hastack/__init__.py",
        "hastack/py.typed",
        "hastack/config/__init__.py",
        "hastack_policy/__init__.py",
        "hastack_policy/pack.py",
        "hastack_policy/config/prod.json",
        "hastack_tools/cli.py",
        "hastack_tools/dev/gate.py",
    ):
        assert name in names
    assert not any(n.startswith(("hastack_tools/ops/", "hastack_tools/standins/")) for n in names)
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Provides-Extra: policy" in text and "Provides-Extra: gate" in text
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    scripts = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "hastack = hastack_tools.cli:main" in scripts
    assert "hastack-gate = hastack_tools.dev.gate:main" in scripts
