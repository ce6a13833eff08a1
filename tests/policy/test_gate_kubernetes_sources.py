"""The offline gate judges the objects inside Helm charts and YAML files: each finding names the
object the chart or file holds (its URN under the chart or config file), not the container."""

from __future__ import annotations

import pytest

from hastack_tools.dev.gate import run_gate
from tests.policy.k8s_fixtures import ROOT

PROGRAMS = ROOT / "tests" / "programs"

EXPECTED = {
    "helm_v3_chart": (
        "min-replicas",
        "kubernetes:helm.sh/v3:Chart$kubernetes:apps/v1:Deployment::shop/shop-web",
    ),
    "helm_v4_chart": (
        "min-replicas",
        "kubernetes:helm.sh/v4:Chart$kubernetes:apps/v1:Deployment::shop:shop/shop-web",
    ),
    "yaml_v1_configfile": (
        "probes-present",
        "kubernetes:yaml:ConfigFile$kubernetes:apps/v1:Deployment::shop/api",
    ),
    "yaml_v2_configfile": (
        "probes-present",
        "kubernetes:yaml/v2:ConfigFile$kubernetes:apps/v1:Deployment::shop:shop/api",
    ),
}

pytestmark = pytest.mark.usefixtures("kubernetes_provider")


@pytest.mark.parametrize("program", sorted(EXPECTED))
def test_findings_point_at_the_object_inside(program: str) -> None:
    rule, urn_tail = EXPECTED[program]
    result = run_gate(PROGRAMS / program)
    assert [(d.policy, d.level) for d in result.diagnostics] == [(rule, "mandatory")]
    assert result.diagnostics[0].urn.endswith(urn_tail)
    assert result.resources == 7  # namespace, deny-all policy, the container and its 4 or 5 objects
    assert result.exit_code == 1
