"""The offline gate judges the objects inside Helm charts and YAML files: each finding names the
object the chart or file holds (its URN under the chart or config file), not the container."""

from __future__ import annotations

import pulumi_kubernetes as k8s
import pytest

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.common.project import choose_stack
from hastack_tools.dev.gate import run_gate
from hastack_tools.dev.kube_version import control_plane_version, parse
from hastack_tools.dev.mockrun import run_function
from hastack_tools.dev.program import run_checked

PROGRAMS = REPO_ROOT / "tests" / "programs"

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


def test_a_kustomize_v2_directory_is_evaluated_and_the_sdk_workaround_is_told() -> None:
    """kustomize.v2.Directory failed every program under the pinned SDK (its `resources` output is
    declared a string, the provider sends a list); the gate judges its objects and says what it left
    out of the component's answer."""
    result = run_gate(PROGRAMS / "kustomize_v2")
    mandatory = [(d.policy, d.urn) for d in result.diagnostics if d.level == "mandatory"]
    assert mandatory == [
        (
            "min-replicas",
            "urn:pulumi:ci::kustomize-v2::kubernetes:kustomize/v2:Directory"
            f"${DEPLOYMENT}::hello:hello/the-deployment",
        )
    ]
    (note,) = result.notes
    assert note.startswith("kubernetes:kustomize/v2:Directory 'hello': output 'resources' left out")
    assert "pulumi-kubernetes#3389" in note
    assert result.exit_code == 1


def test_charts_are_rendered_for_the_chosen_kubernetes_version() -> None:
    """The podinfo-like chart has `kubeVersion: ">=1.23.0-0"` and picks its budget's apiVersion from
    the version: rendered for the control plane's version it is evaluated with a policy/v1 budget;
    for Helm's clusterless default (1.20) it would not render at all."""
    program = PROGRAMS / "helm_kube_version"
    run = run_checked(program, choose_stack(program, None))
    assert (
        run.kube_version is not None and run.kube_version.git_version == control_plane_version().git_version
    )
    assert [r.type for r in run.resources if r.type.endswith("PodDisruptionBudget")] == [PDB]
    old = run_checked(program, choose_stack(program, None), kube_version=parse("1.20", "--kube-version"))
    assert not [r for r in old.resources if r.type in (DEPLOYMENT, PDB)]
    (unseen,) = old.not_evaluated
    assert (
        "kubeVersion: >=1.23.0-0 which is incompatible with Kubernetes v1.20.0"
        in old.not_evaluated_reasons[unseen]
    )


def test_a_v3_chart_asks_the_same_version() -> None:
    """helm.v3.Chart templates through the provider's invoke, which reads the version from the same
    stand-in."""

    def program() -> None:
        k8s.helm.v3.Chart(
            "podinfo",
            k8s.helm.v3.LocalChartOpts(
                path=str(PROGRAMS / "helm_kube_version" / "chart"),
                values={"hpa": {"enabled": True, "minReplicas": 2}},
            ),
        )

    run = run_function(program, kube_version=parse("1.29.3", "test"))
    assert PDB in {r.type for r in run.resources}
    with pytest.raises(RuntimeError, match=r"incompatible with Kubernetes v1\.22\.0"):
        run_function(program, kube_version=parse("1.22", "test"))
