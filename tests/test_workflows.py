"""The GitHub Actions workflows are valid (the workflow JSON schema vendored by check-jsonschema,
offline) and wire the pack as documented: gate + preview per stack on PRs, up dev on main, up prod
on release tags, credentials only from secrets.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from hastack_tools.common.checkout import REPO_ROOT
from tests.conftest import STACKS

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))


def _load(name: str) -> dict[Any, Any]:
    loaded = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(loaded, dict)
    return loaded


def _on(workflow: dict[Any, Any]) -> Any:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as True


def _pulumi_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@")]


def _config_by_environment(job: dict[str, Any], stack: str) -> str:
    """The policy config reaches pulumi/actions from the gate's own choice (by hastack:environment),
    never from a path spelled with the stack name; returns the expression that carries it."""
    (step,) = [s for s in job["steps"] if s.get("id") == "policy-config"]
    assert f"hastack_tools.dev.gate --stack {stack} --print-config" in step["run"]
    assert 'path="$(' in step["run"]  # an assignment: a failed choice fails the step
    assert "policy/config/" not in yaml.safe_dump(job)
    return "${{ steps.policy-config.outputs.path }}"


def test_print_config_follows_the_environment_not_the_stack_name(tmp_path: Path) -> None:
    """A stack named `qa` whose hastack:environment is prod is judged by prod.json."""
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((REPO_ROOT / name).read_text())
    (tmp_path / "Pulumi.qa.yaml").write_text((REPO_ROOT / "Pulumi.prod.yaml").read_text())
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hastack_tools.dev.gate",
            "--program",
            str(tmp_path),
            "--stack",
            "qa",
            "--print-config",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "policy/config/prod.json"), done.stderr


def test_workflows_exist() -> None:
    assert [f.name for f in FILES] == [
        "deploy-dev.yml",
        "fleet-drift.yml",
        "pull-request.yml",
        "release-prod.yml",
    ]


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_workflow_matches_the_github_workflow_schema(path: Path) -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    done = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


STACK_MATRIX = "${{ fromJSON(needs.stacks.outputs.stacks) }}"


def _list_stacks(folder: Path, output: Path) -> list[str]:
    """The pull request's `stacks` job step, run as written in `folder`: the stacks it outputs."""
    (step,) = _load("pull-request.yml")["jobs"]["stacks"]["steps"][1:]
    done = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", step["run"]],
        cwd=folder,
        env={"PATH": "/usr/bin:/bin", "GITHUB_OUTPUT": str(output)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (line,) = output.read_text().splitlines()
    key, _, value = line.partition("=")
    assert key == "stacks"
    stacks: list[str] = json.loads(value)
    return stacks


def test_the_stack_matrix_comes_from_the_stack_files(tmp_path: Path) -> None:
    assert sorted(_list_stacks(REPO_ROOT, tmp_path / "repo-output")) == sorted(STACKS)
    program = tmp_path / "program"
    program.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.qa.yaml", "Pulumi.eu-prod.yml", "README.md"):
        (program / name).write_text("config: {}\n")
    assert _list_stacks(program, tmp_path / "output") == ["eu-prod", "qa"]


def test_pull_requests_gate_and_preview_every_stack_with_the_pack() -> None:
    workflow = _load("pull-request.yml")
    assert "pull_request" in _on(workflow)
    gate = workflow["jobs"]["policy-gate"]
    assert gate["strategy"]["matrix"]["stack"] == STACK_MATRIX
    assert "stacks" in gate["needs"]
    assert any("make policy STACK=${{ matrix.stack }}" in str(s.get("run", "")) for s in gate["steps"])
    assert "secrets." not in yaml.safe_dump(gate)  # the gate needs no credentials
    preview = workflow["jobs"]["preview"]
    assert preview["strategy"]["matrix"]["stack"] == STACK_MATRIX
    assert "stacks" in preview["needs"]
    (step,) = _pulumi_steps(preview)
    assert step["with"]["command"] == "preview"
    assert step["with"]["policyPacks"] == "policy"
    assert _config_by_environment(preview, "${{ matrix.stack }}") == step["with"]["policyPackConfigs"]
    assert step["with"]["comment-on-pr"] is True


@pytest.mark.parametrize(
    ("name", "stack", "trigger"),
    [("deploy-dev.yml", "dev", "branches"), ("release-prod.yml", "prod", "tags")],
)
def test_deploys_run_up_with_the_environment_config(name: str, stack: str, trigger: str) -> None:
    workflow = _load(name)
    assert trigger in _on(workflow)["push"]
    (job,) = workflow["jobs"].values()
    (step,) = _pulumi_steps(job)
    assert step["with"]["command"] == "up"
    assert _config_by_environment(job, stack) == step["with"]["policyPackConfigs"]
    assert any(f"make policy STACK={stack}" in str(s.get("run", "")) for s in job["steps"])


def test_credentials_come_only_from_secrets() -> None:
    for path in FILES:
        text = path.read_text()
        for line in text.splitlines():
            if "TOKEN" in line or "PASSPHRASE" in line or "KUBECONFIG_" in line.split(":")[0]:
                assert "secrets." in line or "$" in line or line.strip().startswith("#"), line


def test_fleet_drift_runs_on_a_schedule_over_the_real_clusters_fleet() -> None:
    from hastack_tools.ops.fleet_config import load

    workflow = _load("fleet-drift.yml")
    assert "cron" in _on(workflow)["schedule"][0]
    (job,) = workflow["jobs"].values()
    runs = [str(s.get("run", "")) for s in job["steps"]]
    (command,) = [r for r in runs if "make fleet-drift" in r]
    fleet_file = command.split("FLEET=", 1)[1].split()[0]
    fleet = load(REPO_ROOT / fleet_file)
    # every stack on a cluster the job writes the credentials of, none on a local control plane
    written = "\n".join(runs)
    for target in fleet.targets.values():
        assert target.stack.kubeconfig is not None
        assert target.stack.kubeconfig.replace("~", "$HOME") in written
