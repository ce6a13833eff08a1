"""The docs run as written. The README is short, draws both flows and shows the two commands; its
quick start runs without a cluster and says what it prints; its stack file is one; every code block of
the README, the docs and the pack's reference is run by a test (the registry below names which)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from hastack.config import ConfigError
from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.common.project import validated_stack_config
from hastack_tools.dev.mockrun import run_program

README = REPO_ROOT / "README.md"
GUIDE = REPO_ROOT / "docs" / "using-hastack.md"
DOCS = [
    README,
    REPO_ROOT / "CONTRIBUTING.md",
    *sorted((REPO_ROOT / "docs").glob("*.md")),
    REPO_ROOT / "policy" / "README.md",
]
FAULTS = "tests/faults/"
USER_ENV = {k: v for k, v in os.environ.items() if k not in {"MAKELEVEL", "MAKEFLAGS", "MFLAGS"}}
"""The environment of a user's shell: under `make test` a nested make would print `make[1]: Leaving
directory` after the output the docs quote."""

RUN_BY: dict[tuple[str, str], tuple[str, str]] = {
    ("README.md", "make venv"): ("tests/test_docs.py", "test_the_quick_start_runs_without_a_cluster"),
    ("README.md", "config:"): ("tests/test_docs.py", "test_the_readme_stack_file_is_one"),
    ("README.md", "make up"): ("tests/test_docs.py", "test_the_two_commands_are_what_make_runs"),
    ("docs/using-hastack.md", "import pulumi"): (
        "tests/test_docs.py",
        "test_the_python_snippet_runs_and_deploys_two_prod_apps_that_can_talk",
    ),
    ("docs/using-hastack.md", 'python3 -m venv "$PROJECT/.venv"'): ("tests/consumer.py", "consumer_project"),
    ("docs/using-hastack.md", '"$PROJECT/.venv/bin/python" -m hastack_policy.pack "$PROJECT/policy"'): (
        "tests/integration/test_examples.py",
        "test_the_policy_pack_runs_from_another_repository",
    ),
    ("docs/using-hastack.md", 'cd "$PROJECT"'): (
        "tests/test_docs.py",
        "test_own_project_commands_block_renders_and_gates_the_example_from_its_venv",
    ),
    ("docs/using-hastack.md", "name: shop-yaml"): (
        "tests/integration/test_examples.py",
        "test_the_guide_yaml_program_previews_with_the_package_from_the_consumer_venv",
    ),
    ("docs/using-hastack.md", "make policy PROGRAM=../their-repo/infra STACK=prod"): (
        "tests/test_docs.py",
        "test_the_gate_block_gates_another_program",
    ),
    ("docs/runbooks.md", "make up STACK=dev"): (
        f"{FAULTS}test_interrupted.py",
        "test_a_cli_killed_mid_up_is_settled_by_its_own_wrapper_and_the_next_up",
    ),
    ("docs/runbooks.md", "make cancel STACK=dev"): (
        f"{FAULTS}test_interrupted.py",
        "test_make_cancel_stops_a_running_update_and_settles_it",
    ),
    ("docs/runbooks.md", "make restore STACK=dev"): (
        f"{FAULTS}test_backend_loss.py",
        "test_restore_into_a_recreated_empty_backend",
    ),
    ("docs/runbooks.md", "make secret STACK=dev KEY='apps[0].secretEnv.DB_PASSWORD' < new-password.txt"): (
        f"{FAULTS}test_secrets.py",
        "test_make_secret_then_up_puts_the_value_in_the_secret_and_nowhere_else",
    ),
    ("docs/fleet.md", "name: storefront"): (
        "tests/tools/ops/test_fleet_config.py",
        "test_the_fleet_file_of_the_docs_is_one",
    ),
    ("docs/fleet.md", "make fleet-plan"): ("tests/test_docs.py", "test_the_fleet_targets_run_hastack_fleet"),
    ("policy/README.md", '"""`hpa-max-replicas-capped`: HorizontalPodAutoscalers scale out'): (
        "tests/policy/test_writing_a_rule.py",
        "test_the_rule_of_the_section_is_served_and_judges_its_fixtures",
    ),
    ("policy/README.md", '"""`hpa-max-replicas-capped`: the fixtures the rule must pass and must fail."""'): (
        "tests/policy/test_writing_a_rule.py",
        "test_the_rule_of_the_section_is_served_and_judges_its_fixtures",
    ),
}
"""Every code block of the docs (by file and the start of its first line) and the test that runs it.
Diagrams and trees (```text) are not code."""


def blocks(path: Path) -> list[tuple[str, str]]:
    """(language, code) of every fenced block of a Markdown file, in order."""
    return re.findall(r"```(\w*)\n(.*?)```", path.read_text(), flags=re.DOTALL)


def section(path: Path, heading: str) -> str:
    return path.read_text().split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]


def test_every_code_block_of_the_docs_is_run_by_a_test() -> None:
    found = [
        (str(path.relative_to(REPO_ROOT)), code.strip().splitlines()[0].split("  #")[0].strip())
        for path in DOCS
        for language, code in blocks(path)
        if language != "text"
    ]
    unclaimed = [b for b in found if not any(b[0] == f and b[1].startswith(start) for f, start in RUN_BY)]
    assert unclaimed == [], "a code block no test runs: add its test to RUN_BY"
    stale = [k for k in RUN_BY if not any(k[0] == f and line.startswith(k[1]) for f, line in found)]
    assert stale == [], "RUN_BY names a block the docs no longer have"
    for path, name in set(RUN_BY.values()):
        assert f"def {name}(" in (REPO_ROOT / path).read_text(), f"{path}::{name} does not exist"


def test_the_readme_is_short_draws_both_flows_and_shows_the_two_commands() -> None:
    text = README.read_text()
    assert len(text.splitlines()) <= 250
    (diagram,) = [code for language, code in blocks(README) if language == "text"]
    for step in (
        "Pulumi.<stack>.yaml",
        "models",
        "components",
        "Kubernetes objects",
        "mock run",
        "pack",
        "verdict",
    ):
        assert step in diagram
    (commands,) = [code for _, code in blocks(README) if code.startswith("make up")]
    assert [line.split()[1] for line in commands.splitlines()] == ["up", "test"]


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False, env=USER_ENV
    )


def test_the_two_commands_are_what_make_runs() -> None:
    """Both resolve to their recipes (`make -n`); CI runs `make test` (.ci/run), the fault tier `make up`."""
    for target in ("up", "test", "test-fast"):
        done = subprocess.run(
            ["make", "-n", target, "STACK=dev"],
            cwd=REPO_ROOT,
            env=USER_ENV,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    assert 'phase "make test" make test' in (REPO_ROOT / ".ci" / "run").read_text()
    up = subprocess.run(
        ["make", "-n", "up", "STACK=dev"],
        cwd=REPO_ROOT,
        env=USER_ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "-m hastack_tools.ops.engine" in up.stdout and "up --program . --stack dev" in up.stdout


def test_the_fleet_targets_run_hastack_fleet() -> None:
    """Each `make fleet-<command>` of docs/fleet.md is `hastack fleet <command>` on FLEET, which the fleet
    tier (tests/fleet) runs on three control planes."""
    (code,) = [code for _, code in blocks(REPO_ROOT / "docs" / "fleet.md") if code.startswith("make fleet-")]
    targets = [line.split()[1] for line in code.splitlines()]
    assert targets == ["fleet-plan", "fleet-up", "fleet-status", "fleet-drift", "fleet-destroy"]
    for target in targets:
        done = make("-n", target, "FLEET=fleet/real.yaml")
        assert done.returncode == 0, done.stderr
        command = target.removeprefix("fleet-")
        assert f"bin/hastack fleet --fleet fleet/real.yaml  {command}" in done.stdout, done.stdout


def test_the_quick_start_runs_without_a_cluster() -> None:
    (code,) = [code for _, code in blocks(README) if code.startswith("make venv")]
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", code],
        cwd=REPO_ROOT,
        env=USER_ENV,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (REPO_ROOT / "build" / "quick" / "web.yaml").exists()
    assert "note: " in done.stdout
    assert done.stdout.splitlines()[-1].startswith("hastack-ha: no mandatory violation")


def test_the_floor_the_readme_breaks_gives_the_line_it_quotes(tmp_path: Path) -> None:
    quoted = re.search(
        r"stops before anything is built with\n?`([^`]+)`",
        README.read_text().replace("\n", " ").replace("built with `", "built with\n`"),
    )
    assert quoted is not None
    (tmp_path / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text())
    stack = yaml.safe_load((REPO_ROOT / "Pulumi.prod.yaml").read_text())
    stack["config"]["hastack:apps"][0]["autoscaling"]["minReplicas"] = 2
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(stack, sort_keys=False))
    with pytest.raises(ConfigError) as raised:
        validated_stack_config(tmp_path, "prod")
    assert f"  {quoted.group(1)}" in str(raised.value).splitlines()


def test_the_readme_stack_file_is_one(tmp_path: Path) -> None:
    """The stack file of "Your own app" as the program runs it: valid, and its app deployed as told."""
    (code,) = [code for language, code in blocks(README) if language == "yaml"]
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((REPO_ROOT / name).read_text())
    (tmp_path / "Pulumi.dev.yaml").write_text(code)
    assert [app.name for app in validated_stack_config(tmp_path, "dev").apps] == ["web"]
    run = run_program(tmp_path, "dev")
    (deployment,) = [r for r in run.resources if r.type == "kubernetes:apps/v1:Deployment"]
    assert deployment.inputs["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/acme/web:1.4.2"
    assert run.outputs["apps"]["web"]["urls"] == ["https://shop.example.com/"]


def test_the_gate_block_gates_another_program() -> None:
    """The guide's `make policy PROGRAM=...` block, with this repository as the other program."""
    (code,) = [c for _, c in blocks(GUIDE) if c.startswith("make policy PROGRAM=")]
    done = subprocess.run(
        ["bash", "-c", code.replace("../their-repo/infra", str(REPO_ROOT))],
        cwd=REPO_ROOT,
        env=USER_ENV,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "0", "echo $? prints the gate's own code"
    assert lines[-2].startswith("hastack-ha: no mandatory violation")


def python_snippets() -> list[str]:
    """Every ```python block of the README and the guide, in order."""
    return [code for path in (README, GUIDE) for _, code in blocks(path) if _ == "python"]


def test_the_python_snippet_runs_and_deploys_two_prod_apps_that_can_talk() -> None:
    """The guide's snippet for another program, run as written under mocks: the computed image is
    deployed, and web, which api admits, may connect to api on api's port."""
    from hastack_tools.dev.mockrun import run_function
    from tests.conftest import objects

    (code,) = [c for language, c in blocks(GUIDE) if language == "python"]
    run = run_function(
        lambda: exec(compile(code, "using-hastack.md", "exec"), {}), project="consumer", stack="prod"
    )
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
    from tests.consumer import guide_blocks

    python_block, pack_block, commands_block = guide_blocks("bash")
    assert 'pip" install' in python_block and '"$HASTACK[gate]"' in python_block
    assert "-m hastack_policy.pack" in pack_block and "--policy-pack policy" in pack_block
    assert "hastack render" in commands_block and "hastack-gate" in commands_block
    (yaml_block,) = guide_blocks("yaml")
    assert "<hastack clone>/provider" in yaml_block
    assert guide_blocks("python") == [], "a Python snippet here would need a test of its own"


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
    from tests.consumer import ConsumerProject, block_failed, guide_blocks

    assert isinstance(consumer_project, ConsumerProject)
    done = consumer_project.run_block(guide_blocks("bash")[2], timeout=600)
    assert done.returncode == 0, block_failed("the README's commands block", done)
    assert "rendered " in done.stdout and "note: api, web: probed with GET /readyz" in done.stdout
    assert (consumer_project.folder / "rendered" / "api.yaml").exists()
    assert "config/dev.json of the installed hastack_policy" in done.stdout
    assert done.stdout.splitlines()[-1].startswith("hastack-ha: no mandatory violation")


def test_a_wheel_builds_offline_with_both_import_names_and_the_pack_configs(tmp_path: Path) -> None:
    """`pip wheel --no-deps <clone>` (the README's alternative to a path install), without the network."""
    import subprocess
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
