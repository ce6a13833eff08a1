"""The real engine sees inside Helm charts and YAML files as the offline gate does: `pulumi preview`
with the pack flags the violation inside a local chart and inside a manifest file, with the same
rule ids and on the same objects (render target: no cluster needed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.dev.gate import run_gate
from hastack_tools.ops import engine

pytestmark = pytest.mark.integration

PROGRAMS = REPO_ROOT / "tests" / "programs"


@pytest.mark.parametrize(
    "program", ["helm_v3_chart", "helm_v4_chart", "yaml_v1_configfile", "yaml_v2_configfile"]
)
def test_preview_flags_the_violation_inside_like_the_offline_gate(
    program: str, engine_env: dict[str, str], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    offline = run_gate(PROGRAMS / program)
    assert offline.mandatory
    capfd.readouterr()
    code = engine.run("preview", PROGRAMS / program, "ci", "render", workdir=tmp_path)
    output = capfd.readouterr().out
    assert code != 0, output
    for finding in offline.mandatory:
        object_name = finding.urn.rsplit("::", 1)[-1]
        assert re.search(rf"\[mandatory\] .*\s{re.escape(finding.policy)}\s", output), output
        assert finding.detail in output, output  # the same message, on the same object inside
        assert object_name.rsplit(":", 1)[-1] in output, output
