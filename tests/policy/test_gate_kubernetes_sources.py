"""The offline gate judges the objects inside Helm charts and YAML files: each finding names the
object the chart or file holds (its URN under the chart or config file), not the container."""

from __future__ import annotations

import pytest

from hastack_tools.dev.gate import run_gate
from tests.policy.k8s_fixtures import ROOT

PROGRAMS = ROOT / "tests" / "programs"

DEPLOYMENT, PDB = "kubernetes:apps/v1:Deployment", "kubernetes:policy/v1:PodDisruptionBudget"
EXPECTED = {
    "helm_v3_chart": {
        "min-replicas": f"kubernetes:helm.sh/v3:Chart${DEPLOYMENT}::shop/shop-web",
        "pdb-allows-eviction": f"kubernetes:helm.sh/v3:Chart${PDB}::shop/shop-web",
    },
    "helm_v4_chart": {
        "min-replicas": f"kubernetes:helm.sh/v4:Chart${DEPLOYMENT}::shop:shop/shop-web",
        "pdb-allows-eviction": f"kubernetes:helm.sh/v4:Chart${PDB}::shop:shop/shop-web",
    },
    "yaml_v1_configfile": {
        "probes-present": f"kubernetes:yaml:ConfigFile${DEPLOYMENT}::shop/api",
    },
    "yaml_v2_configfile": {
        "probes-present": f"kubernetes:yaml/v2:ConfigFile${DEPLOYMENT}::shop:shop/api",
    },
}
"""Per program, each mandatory finding and the tail of the URN it must point at."""

pytestmark = pytest.mark.usefixtures("kubernetes_provider")


@pytest.mark.parametrize("program", sorted(EXPECTED))
def test_findings_point_at_the_object_inside(program: str) -> None:
    result = run_gate(PROGRAMS / program)
    mandatory = [(d.policy, d.urn) for d in result.diagnostics if d.level == "mandatory"]
    assert sorted(rule for rule, _ in mandatory) == sorted(EXPECTED[program])  # each once
    assert [(rule, urn) for rule, urn in mandatory if not urn.endswith(EXPECTED[program][rule])] == []
    assert result.resources == 7  # namespace, deny-all policy, the container and its 4 or 5 objects
    assert result.exit_code == 1
