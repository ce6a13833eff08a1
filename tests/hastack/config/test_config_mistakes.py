"""The mistakes a new user made in a first hour with a stack file of their own, each as written in YAML:
every one gives exactly one line, naming the key path and saying what to write instead.

Each case edits one thing in a valid prod stack file; the file goes through what the engine does
with it (YAML, then every structured key as JSON: `engine_config`) and hastack's config loading.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from hastack.config import ConfigError, raw_from_engine, validate
from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.common.project import engine_config

DIGEST = "@sha256:" + "f" * 64
BASE: dict[str, Any] = {
    "config": {
        "hastack:environment": "prod",
        "hastack:namespace": "shop",
        "hastack:ingress": {
            "className": "nginx",
            "tls": {"mode": "cert-manager", "issuer": "letsencrypt-prod"},
        },
        "hastack:apps": [
            {
                "name": "web",
                "image": "ghcr.io/acme/web" + DIGEST,
                "port": 8080,
                "autoscaling": {"minReplicas": 3, "maxReplicas": 6, "targetCPUUtilization": 70},
                "ingress": {"hosts": ["shop.example.com"]},
            },
            {
                "name": "api",
                "image": "ghcr.io/acme/api" + DIGEST,
                "port": 9090,
                "autoscaling": {"minReplicas": 3, "maxReplicas": 6, "targetCPUUtilization": 70},
                "allowFrom": ["web"],
            },
        ],
    }
}
Edit = Callable[[dict[str, Any]], Any]


def app(index: int, **changes: Any) -> Edit:
    def edit(config: dict[str, Any]) -> None:
        config["hastack:apps"][index].update(changes)

    return edit


def nested(*path: str | int, value: Any) -> Edit:
    """Sets (or, with value DELETE, removes) one key deep in the config."""

    def edit(config: dict[str, Any]) -> None:
        node: Any = config
        for part in path[:-1]:
            node = node[part]
        if value is DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return edit


def renamed(index: int, old: str, new: str) -> Edit:
    def edit(config: dict[str, Any]) -> None:
        entry = config["hastack:apps"][index]
        entry[new] = entry.pop(old)

    return edit


DELETE = object()

TRIAL_MISTAKES: list[tuple[str, Edit, str, str]] = [
    # (mistake, edit, key path, the fix the line must carry)
    (
        "egress port as a bare number",
        app(1, egress=[{"cidr": "10.40.0.0/24", "ports": [5432]}]),
        "hastack:apps[1].egress[0].ports[0]",
        "must be an object with port (required), protocol (did you mean {port: 5432}?), got 5432",
    ),
    ("unquoted number in env", app(0, env={"WORKERS": 4}), "hastack:apps[0].env.WORKERS", 'quote it, "4"'),
    (
        "missing className",
        nested("hastack:ingress", "className", value=DELETE),
        "hastack:ingress.className",
        "required key is missing; set it to the IngressClass of the cluster's controller, one of nginx "
        "(ingress-nginx), haproxy (haproxy)",
    ),
    (
        "misspelt className",
        nested("hastack:ingress", "className", value="ngnix"),
        "hastack:ingress.className",
        "(did you mean 'nginx'?); use one of nginx (ingress-nginx), haproxy (haproxy)",
    ),
    ("misspelt app key", renamed(0, "image", "imagee"), "hastack:apps[0].imagee", "(did you mean 'image'?)"),
    (
        "misspelt nested key",
        nested(
            "hastack:apps",
            0,
            "autoscaling",
            value={"minReplica": 3, "maxReplicas": 6, "targetCPUUtilization": 70},
        ),
        "hastack:apps[0].autoscaling.minReplica",
        "(did you mean 'minReplicas'?)",
    ),
    (
        "environment spelt out",
        nested("hastack:environment", value="production"),
        "hastack:environment",
        "must be one of dev, staging, prod (did you mean 'prod'?)",
    ),
    ("secretsAs singular", app(1, secretsAs="file"), "hastack:apps[1].secretsAs", "(did you mean 'files'?)"),
    ("quoted port", app(0, port="8080"), "hastack:apps[0].port", "write it without quotes: 8080"),
    (
        "one host without a list",
        app(0, ingress={"hosts": "shop.example.com"}),
        "hastack:apps[0].ingress.hosts",
        "a single item goes in brackets: [shop.example.com]",
    ),
    (
        "probe path without its key",
        app(0, probes={"readiness": "/ready", "liveness": {"path": "/alive"}}),
        "hastack:apps[0].probes.readiness",
        "(did you mean {path: /ready}?)",
    ),
    (
        "fractional disruption budget",
        app(0, disruptionBudget={"maxUnavailable": 1.5}),
        "hastack:apps[0].disruptionBudget.maxUnavailable",
        'must be a whole number such as 1, or a percentage such as "25%"',
    ),
    (
        "memory in MB",
        app(1, resources={"limits": {"memory": "512MB"}}),
        "hastack:apps[1].resources.limits.memory",
        "such as 512Mi, 1Gi, 500M",
    ),
    (
        "timeout with a unit",
        app(0, ingress={"hosts": ["shop.example.com"], "timeouts": {"readSeconds": "30s"}}),
        "hastack:apps[0].ingress.timeouts.readSeconds",
        "write the number alone, without 's': 30",
    ),
    (
        "utilization with a percent sign",
        app(1, autoscaling={"minReplicas": 3, "maxReplicas": 6, "targetCPUUtilization": "70%"}),
        "hastack:apps[1].autoscaling.targetCPUUtilization",
        "write the number alone, without '%': 70",
    ),
    (
        "self-signed TLS with an issuer in prod",
        nested("hastack:ingress", "tls", value={"mode": "self-signed", "issuer": "letsencrypt-prod"}),
        "hastack:ingress.tls.mode",
        "prod allows cert-manager, secret, got 'self-signed'",
    ),
    (
        "allowFrom naming a misspelt app",
        app(1, allowFrom=["wbe"]),
        "hastack:apps[1].allowFrom[0]",
        "must name another app of this stack (web), got 'wbe'",
    ),
    (
        "no namespace",
        nested("hastack:namespace", value=DELETE),
        "hastack:namespace",
        "required key is missing; set it to a namespace: a DNS-1123 label",
    ),
]


def problems_of_stack_file(tmp_path: Path, edit: Edit) -> list[str]:
    """The problems the stack file gives, read the engine's way (strings; objects as JSON)."""
    document = copy.deepcopy(BASE)
    edit(document["config"])
    (tmp_path / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    config, _ = engine_config(tmp_path, "prod")
    raw, problems = raw_from_engine(config)
    assert problems == []
    with pytest.raises(ConfigError) as raised:
        validate(raw, "Pulumi.prod.yaml")
    lines = str(raised.value).splitlines()
    assert len(lines) == 1 + len(raised.value.problems), "one problem a line, after the header"
    return raised.value.problems


def test_the_base_stack_file_is_valid(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(BASE))
    config, _ = engine_config(tmp_path, "prod")
    raw, _ = raw_from_engine(config)
    assert [app.name for app in validate(raw, "Pulumi.prod.yaml").apps] == ["web", "api"]


def test_there_are_the_trials_eighteen() -> None:
    assert len(TRIAL_MISTAKES) == 18
    assert len({case[0] for case in TRIAL_MISTAKES}) == 18


@pytest.mark.parametrize(
    ("mistake", "edit", "path", "fix"), TRIAL_MISTAKES, ids=[c[0] for c in TRIAL_MISTAKES]
)
def test_each_mistake_gives_one_line_with_its_path_and_fix(
    mistake: str, edit: Edit, path: str, fix: str, tmp_path: Path
) -> None:
    (problem,) = problems_of_stack_file(tmp_path, edit)
    assert problem.startswith(f"{path}: "), problem
    assert fix in problem, problem
    assert "Input should" not in problem and "Field required" not in problem, "pydantic's own words"


@pytest.mark.parametrize(
    ("mistake", "edit", "expected"),
    [
        (
            "an app's replicas beside its autoscaling, below the floor",
            app(0, replicas=2),
            "hastack:apps[0].replicas: is ignored when autoscaling owns the count; remove one of them, got 2",
        ),
        (
            "no hastack:ingress for two exposed apps",
            lambda config: (
                config.pop("hastack:ingress"),
                config["hastack:apps"][1].update(ingress={"hosts": ["api.example.com"]}),
            ),
            "hastack:ingress: required by the apps exposed through an Ingress (web, api); set className and "
            "tls, got nothing",
        ),
        (
            "apps as a map of names",
            nested("hastack:apps", value={"web": {"image": "ghcr.io/acme/web" + DIGEST}}),
            "hastack:apps: must be a list of at least 1 item, each item an object with name (required), "
            "image (required), port (required)",
        ),
    ],
)
def test_a_mistake_is_reported_once_not_with_what_follows_from_it(
    mistake: str, edit: Edit, expected: str, tmp_path: Path
) -> None:
    (problem,) = problems_of_stack_file(tmp_path, edit)
    assert problem.startswith(expected), problem


def _program_with(tmp_path: Path, *edits: Edit) -> Path:
    program = tmp_path / "program"
    program.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        (program / name).write_text((REPO_ROOT / name).read_text())
    document = copy.deepcopy(BASE)
    for edit in edits:
        edit(document["config"])
    (program / "Pulumi.prod.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return program


THREE = (TRIAL_MISTAKES[1][1], TRIAL_MISTAKES[8][1], TRIAL_MISTAKES[11][1])
"""Unquoted env number, quoted port, fractional budget: three problems of one file."""


def test_the_gate_and_render_print_one_problem_a_line_and_no_origin_without_v(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hastack_tools.dev.gate import main as gate_main
    from hastack_tools.dev.render import main as render_main

    program = _program_with(tmp_path, *THREE)
    assert gate_main(["--program", str(program), "--stack", "prod"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "could not evaluate: the program failed: invalid stack config (3 problems):"
    assert [line.split(": ", 2)[1] for line in lines[1:]] == [
        "hastack:apps[0].port",
        "hastack:apps[0].disruptionBudget.maxUnavailable",
        "hastack:apps[0].env.WORKERS",
    ]
    assert all(line.startswith("  Pulumi.prod.yaml: hastack:") for line in lines[1:])
    assert render_main(["--program", str(program), "--stack", "prod", "--out", str(tmp_path / "out")]) == 2
    rendered = capsys.readouterr().err.splitlines()
    assert rendered[0] == "render: invalid stack config (3 problems):"
    assert rendered[1:] == lines[1:]
    assert gate_main(["--program", str(program), "--stack", "prod", "-v"]) == 2
    verbose = capsys.readouterr().err
    assert verbose.startswith("Traceback (most recent call last):")
    assert "hastack/config/load.py" in verbose
    assert verbose.splitlines()[-4:] == lines


def test_a_hint_never_repeats_a_secret_value(tmp_path: Path) -> None:
    """An unquoted number in secretEnv is the env mistake, but the fix must not quote the value."""
    (problem,) = problems_of_stack_file(tmp_path, app(0, secretEnv={"PIN": 918273}))
    assert problem == (
        "hastack:apps[0].secretEnv.PIN: must be text; quote it: stack secrets are text, got a secret value "
        "(not shown)"
    )
