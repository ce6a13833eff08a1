"""The offline gate's CLI: exit codes (0 clean, 1 mandatory violations, 2 could not evaluate) from the
module and through make, messages that name the case and the error, the stack and policy config it
chose and why. Per-program verdicts: test_corpus.py.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.common.project import StackChoice
from hastack_tools.dev import gate
from hastack_tools.dev.gate import main, render, run_gate
from hastack_tools.dev.mockrun import MockRun
from hastack_tools.dev.program import run_checked

PROGRAMS = REPO_ROOT / "tests" / "programs"


def test_output_looks_like_the_cli_and_ends_with_a_verdict() -> None:
    result = run_gate(PROGRAMS / "bad_cross")
    text = render(result)
    assert "[mandatory] hastack-ha v1 pdb-allows-eviction: PodDisruptionBudget shop/shop-strict-" in text
    assert (
        "allows no eviction: minAvailable 100% with 1 replica; set maxUnavailable: 1 "
        "(urn:pulumi:ci::bad-cross::" in text
    )
    *_, choices, verdict = text.splitlines()
    assert choices == (
        "stack ci (the default; Pulumi.ci.yaml); policy config policy/config/dev.json "
        "(environment dev from hastack:environment in Pulumi.ci.yaml)"
    )
    assert verdict.startswith("hastack-ha: 8 mandatory violations, 1 advisory, over 9 resources of stack ci")
    assert result.exit_code == 1


def test_environment_key_selects_the_config_and_an_explicit_file_wins() -> None:
    result = run_gate(PROGRAMS / "bad_cross")
    levels = {d.policy: d.level for d in result.diagnostics}
    assert levels["ingress-tls-coverage"] == "advisory"
    assert levels["pdb-allows-eviction"] == "mandatory"
    strict = run_gate(PROGRAMS / "bad_cross", policy_config=REPO_ROOT / "policy" / "config" / "prod.json")
    assert {d.level for d in strict.diagnostics} == {"mandatory"}
    assert strict.policy_config.reason == "given with --policy-config"


def _program(tmp_path: Path, main_py: str, stacks: dict[str, str] | None = None) -> Path:
    program = tmp_path / "prog"
    program.mkdir()
    (program / "Pulumi.yaml").write_text("name: prog\nruntime: python\n")
    (program / "__main__.py").write_text(main_py)
    for stack, text in (stacks or {}).items():
        (program / f"Pulumi.{stack}.yaml").write_text(text)
    return program


def test_a_named_stack_without_its_file_is_an_error_naming_the_file_and_the_stacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = _program(tmp_path, "", {"prod": "config: {}\n", "staging": "config: {}\n"})
    assert main(["--program", str(program), "--stack", "dev"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"could not evaluate: no such stack: stack 'dev' was asked for, but {program}/Pulumi.dev.yaml "
        f"does not exist; stacks of {program}: prod, staging\n"
    )


def test_a_missing_config_key_names_the_key_and_the_stacks_to_choose_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = _program(
        tmp_path, "import pulumi\n\npulumi.Config().require('replicas')\n", {"prod": "config: {}\n"}
    )
    assert main(["--program", str(program)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "could not evaluate: the program failed: ConfigMissingError: Missing required configuration variable "
        "'prog:replicas'"
    )
    assert "(raised at __main__.py:3, in pulumi/config.py:" in err
    assert "stack ci has no Pulumi.ci.yaml; stacks of this program: prod: name one with STACK=<stack>" in err
    assert "Traceback" not in err


def test_verbose_adds_the_programs_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    program = _program(tmp_path, "def boom() -> None:\n    raise RuntimeError('disk on fire')\n\n\nboom()\n")
    assert main(["--program", str(program), "-v"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert f'File "{program}/__main__.py", line 2, in boom' in err
    assert err.endswith(
        "could not evaluate: the program failed: RuntimeError: disk on fire (raised at __main__.py:2)\n"
    )


def test_not_a_program_and_a_bad_policy_config_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--program", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.startswith("could not evaluate: not a Pulumi program: ")
    bad = tmp_path / "bad.json"
    bad.write_text('{"min-replicas": {"minReplicas": "three"}}')
    assert main(["--program", str(PROGRAMS / "good_app"), "--policy-config", str(bad)]) == 2
    assert capsys.readouterr().err.startswith(f"could not evaluate: bad policy config: {bad}")


def test_unseen_resources_fail_an_enforcing_run_and_are_listed_by_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The mock run lists what it could not look inside (a remote chart); the gate must not judge
    the program on the rest alone."""
    chart = "urn:pulumi:ci::good-app::kubernetes:helm.sh/v4:Chart::ingress-nginx"

    def run_with_a_chart(program: Path, stack: StackChoice, **options: Any) -> MockRun:
        run = run_checked(program, stack, **options)
        run.not_evaluated.append(chart)
        return run

    monkeypatch.setattr(gate, "run_checked", run_with_a_chart)
    assert main(["--program", str(PROGRAMS / "good_app"), "-q"]) == 2
    out = capsys.readouterr().out
    assert f"not evaluated (fails this enforcing run):\n    {chart}\n" in out
    assert out.splitlines()[-1].startswith(
        "could not evaluate: 1 resource not evaluated (their contents were not visible to the gate); "
        "hastack-ha: no mandatory violation, 0 advisory, over 8 resources of stack ci"
    )
    assert main(["--program", str(PROGRAMS / "good_app"), "-q", "--allow-not-evaluated"]) == 0
    out = capsys.readouterr().out
    assert f"not evaluated (allowed by --allow-not-evaluated):\n    {chart}\n" in out
    assert out.splitlines()[-1].startswith("hastack-ha: no mandatory violation")
    assert main(["--program", str(PROGRAMS / "bad_ha"), "-q"]) == 1, "violations seen win over unseen"


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "policy", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    ("program", "code", "last_line"),
    [
        ("good_app", 0, "hastack-ha: no mandatory violation, 0 advisory"),
        ("bad_security", 1, "hastack-ha: 8 mandatory violations"),
        ("crash_import", 2, "could not evaluate: the program failed: ModuleNotFoundError"),
    ],
)
def test_make_policy_exits_with_the_gates_own_code(program: str, code: int, last_line: str) -> None:
    done = _make(f"PROGRAM=tests/programs/{program}", "GATE_ARGS=-q")
    assert done.returncode == code, done.stdout + done.stderr
    text = done.stderr if code == 2 else done.stdout
    assert [line for line in text.splitlines() if line.startswith(last_line)], done.stdout + done.stderr


def test_make_policy_with_a_stack_that_has_no_file_exits_2() -> None:
    done = _make("PROGRAM=tests/programs/good_app", "STACK=dev")
    assert done.returncode == 2
    assert "could not evaluate: no such stack: stack 'dev' was asked for, but " in done.stderr
    assert "tests/programs/good_app/Pulumi.dev.yaml does not exist; stacks of " in done.stderr


NAMESPACE_LABELLED = """import pulumi_kubernetes as k8s

k8s.core.v1.Namespace("shop", metadata={"name": "shop", "labels": {"hastack.dev/environment": "%s"}})
"""


def test_the_environment_set_in_code_picks_the_config_and_the_strictest_wins_a_conflict(
    tmp_path: Path,
) -> None:
    program = _program(tmp_path, NAMESPACE_LABELLED % "prod", {"ci": "config:\n  hastack:environment: dev\n"})
    result = run_gate(program)
    assert result.policy_config.path.name == "prod.json"
    assert result.policy_config.reason == (
        "environment prod from label hastack.dev/environment on Namespace shop in the program; "
        "the strictest, over dev from hastack:environment in Pulumi.ci.yaml"
    )
    (program / "Pulumi.ci.yaml").unlink()
    (program / "__main__.py").write_text(NAMESPACE_LABELLED % "staging")
    result = run_gate(program)
    assert result.policy_config.path.name == "staging.json"
    assert result.policy_config.reason == (
        "environment staging from label hastack.dev/environment on Namespace shop in the program"
    )


def test_an_unknown_declared_environment_cannot_be_evaluated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = _program(tmp_path, NAMESPACE_LABELLED % "qa")
    assert main(["--program", str(program)]) == 2
    assert capsys.readouterr().err == (
        "could not evaluate: bad policy config: unknown environment 'qa' from label hastack.dev/environment "
        "on Namespace shop in the program; allowed: dev, staging, prod\n"
    )


def test_the_guide_tells_how_to_gate_another_program_offline_and_with_the_cli() -> None:
    readme = (REPO_ROOT / "docs" / "using-hastack.md").read_text()
    section = readme.split("### Gating another repository's program", 1)[1].split("\n## ", 1)[0]
    assert "make policy PROGRAM=../their-repo/infra STACK=prod" in section
    assert (
        "--policy-pack ../../hastack/policy --policy-pack-config ../../hastack/policy/config/prod.json"
        in section
    )
    for code, verdict in (
        ("0", "`hastack-ha: no mandatory violation"),
        ("1", "`hastack-ha: N mandatory"),
        ("2", "`could not evaluate: "),
    ):
        assert f"| {code} | {verdict}" in section
