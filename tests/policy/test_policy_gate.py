"""The offline gate over small raw pulumi-kubernetes programs in tests/programs: the bad ones
report exactly the expected rule ids and exit 1, the good one passes.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from hastack_tools.dev.gate import main, render, run_gate
from tests.policy.k8s_fixtures import ROOT

PROGRAMS = ROOT / "tests" / "programs"

EXPECTED = {
    "bad_ha": {
        "image-pinned",
        "min-replicas",
        "network-policy-coverage",
        "probes-present",
        "rolling-update-keeps-capacity",
    },
    "bad_cross": {
        "hpa-target-exists",
        "ingress-backend-exists",
        "ingress-tls-coverage",
        "min-replicas",
        "pdb-allows-eviction",
        "pdb-coverage",
        "pdb-policy-allows-disruption",
        "service-selects-pods",
    },
    "bad_security": {
        "image-pinned",
        "no-default-namespace",
        "no-host-access",
        "no-service-account-token",
        "pss-restricted",
        "read-only-root-filesystem",
        "service-type-allowed",
    },
}


@pytest.mark.parametrize("program", sorted(EXPECTED))
def test_bad_program_reports_exactly_the_expected_rules(program: str) -> None:
    result = run_gate(PROGRAMS / program)
    assert result.stack == "ci"
    assert result.policy_ids == EXPECTED[program]
    assert result.exit_code == 1


def test_good_raw_program_passes_with_auto_names_resolved() -> None:
    result = run_gate(PROGRAMS / "good_app")
    assert result.diagnostics == []
    assert result.exit_code == 0
    assert result.config_path.name == "prod.json"  # the strict default for outside programs


def test_environment_key_selects_the_config() -> None:
    result = run_gate(PROGRAMS / "bad_cross")
    assert result.config_path.name == "dev.json"
    levels = {d.policy: d.level for d in result.diagnostics}
    assert levels["ingress-tls-coverage"] == "advisory"
    assert levels["pdb-allows-eviction"] == "mandatory"
    strict = run_gate(PROGRAMS / "bad_cross", policy_config=ROOT / "policy" / "config" / "prod.json")
    assert {d.level for d in strict.diagnostics} == {"mandatory"}


def test_output_looks_like_the_cli() -> None:
    text = render(run_gate(PROGRAMS / "bad_cross"))
    assert "[mandatory] hastack-ha v1 pdb-allows-eviction: PodDisruptionBudget shop/shop-strict-" in text
    assert (
        "allows no eviction: minAvailable 100% with 1 replica; set maxUnavailable: 1 "
        "(urn:pulumi:ci::bad-cross::" in text
    )
    assert text.splitlines()[-1].startswith(
        "Policy gate FAILED: 9 mandatory and 1 advisory violation(s) from hastack-ha v1"
    )


def test_cli_exit_codes() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hastack_tools.dev.gate",
            "--program",
            str(PROGRAMS / "bad_security"),
            "--quiet",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "[mandatory] hastack-ha v1 no-host-access: Deployment default/agent-" in done.stdout
    assert main(["--program", str(PROGRAMS / "does-not-exist")]) == 2
