"""The corpus of outside-style programs in tests/programs: each states in its expected.json the gate's
verdict (exit code) and, per rule, what must and must not fire; one test runs the gate over all of them
through its CLI, as a user would (tests/programs/README.md describes the format).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from hastack_policy import RULES_BY_ID
from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.dev.gate import main

PROGRAMS = REPO_ROOT / "tests" / "programs"
NOT_GATED = {"slow_app": "the engine's stack-lock fixture (tests/integration), not a policy program"}
KEYS = {"exit", "fires", "silent", "exact", "stack", "policyConfig", "args", "configUsed", "error", "output"}
VIOLATION = re.compile(r"^ {4}\[(?:mandatory|advisory|remediate)\] \S+ v\S+ ([a-z0-9-]+): ", re.MULTILINE)


def program_dirs() -> list[Path]:
    return sorted(p for p in PROGRAMS.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def corpus() -> list[str]:
    return [p.name for p in program_dirs() if (p / "expected.json").exists()]


def expected_of(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PROGRAMS / name / "expected.json").read_text())
    return loaded


def test_every_program_states_a_valid_expected_verdict() -> None:
    missing = [
        p.name for p in program_dirs() if p.name not in NOT_GATED and not (p / "expected.json").exists()
    ]
    assert missing == []
    assert len(corpus()) >= 14
    for name in corpus():
        expected = expected_of(name)
        assert set(expected) <= KEYS, f"{name}/expected.json: unknown keys {set(expected) - KEYS}"
        assert expected["exit"] in (0, 1, 2), name
        named = [*expected.get("fires", []), *expected.get("silent", [])]
        assert [r for r in named if r not in RULES_BY_ID] == [], f"{name}/expected.json names unknown rules"
        assert not set(expected.get("fires", [])) & set(expected.get("silent", [])), name


@pytest.mark.parametrize("name", corpus())
def test_gate_gives_the_expected_verdict(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    expected = expected_of(name)
    program = PROGRAMS / name
    argv = ["--program", str(program), "--quiet", *expected.get("args", [])]
    if "stack" in expected:
        argv += ["--stack", expected["stack"]]
    if "policyConfig" in expected:
        argv += ["--policy-config", str(program / expected["policyConfig"])]
    code = main(argv)
    out, err = capsys.readouterr()
    fired = set(VIOLATION.findall(out))
    report = f"exit {code}\n{out}\n{err}"
    assert code == expected["exit"], report
    assert set(expected.get("fires", [])) - fired == set(), report
    assert set(expected.get("silent", [])) & fired == set(), report
    if expected.get("exact"):
        assert fired == set(expected.get("fires", [])), report
    if "configUsed" in expected:
        assert f"policy config {expected['configUsed']} (" in out, report
    if "error" in expected:
        assert expected["error"] in err, report
        assert "Traceback" not in err, report
    if "output" in expected:
        assert expected["output"] in out, report
    verdict_line = (out or err).strip().splitlines()[-1]
    assert verdict_line.startswith("could not evaluate: " if code == 2 else "hastack-ha: "), report
    assert "passed" not in out + err and "FAILED" not in out + err, report
