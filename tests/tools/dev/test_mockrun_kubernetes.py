"""YAML files and Helm charts under mocks: the real kubernetes provider answers the SDK's invokes and
builds its remote components, so their objects are recorded as the engine would receive them; what
stays out of sight is listed by name in `not_evaluated`, with why."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.dev.k8s_provider import PROVIDER_ENV
from hastack_tools.dev.mockrun import MockRun, RecordedResource, run_function, run_program

PROGRAMS = REPO_ROOT / "tests" / "programs"
CHART = REPO_ROOT / "tests" / "data" / "charts" / "web"
CHART_OBJECTS = {"Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"}
MANIFEST_OBJECTS = {"Namespace", "NetworkPolicy", "Deployment", "Service", "PodDisruptionBudget"}

pytestmark = pytest.mark.usefixtures("kubernetes_provider")


def children(run: MockRun, component_type: str) -> list[RecordedResource]:
    (component,) = run.by_type(component_type)
    return [r for r in run.resources if r.parent == component.urn]


def program_copy(tmp_path: Path, program: str, config: dict[str, object]) -> Path:
    """The program in tmp_path with a `Pulumi.ci.yaml` carrying `config` (keys of the project)."""
    target = tmp_path / program
    shutil.copytree(PROGRAMS / program, target)
    project = yaml.safe_load((target / "Pulumi.yaml").read_text())["name"]
    stack = {"config": {f"{project}:{key}": value for key, value in config.items()}}
    (target / "Pulumi.ci.yaml").write_text(yaml.safe_dump(stack))
    return target


def packaged_chart(folder: Path) -> Path:
    """The fixture chart as `helm package` lays it out: `web-0.1.0.tgz` holding `web/...`."""
    archive = folder / "web-0.1.0.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(CHART, arcname="web")
    return archive


def test_helm_v3_local_chart_objects_are_the_charts_children() -> None:
    run = run_program(PROGRAMS / "helm_v3_chart", "ci")
    objects = children(run, "kubernetes:helm.sh/v3:Chart")
    assert {r.inputs["kind"] for r in objects} == CHART_OBJECTS
    (deployment,) = (r for r in objects if r.inputs["kind"] == "Deployment")
    assert deployment.name == "shop/shop-web"
    # templated by Helm: release name, namespace from the program, the chart's default values
    assert deployment.inputs["metadata"]["namespace"] == "shop"
    assert deployment.inputs["metadata"]["labels"]["app.kubernetes.io/instance"] == "shop"
    assert deployment.inputs["spec"]["replicas"] == 1
    spread = deployment.inputs["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert [c["topologyKey"] for c in spread] == ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]
    assert run.not_evaluated == []


def test_chart_values_from_the_stack_reach_the_templates(tmp_path: Path) -> None:
    program = program_copy(tmp_path, "helm_v3_chart", {"chart": str(CHART), "values": {"replicaCount": 5}})
    run = run_program(program, "ci")
    (deployment,) = run.by_type("kubernetes:apps/v1:Deployment")
    assert deployment.inputs["spec"]["replicas"] == 5


def test_helm_v4_packaged_chart_is_built_by_the_providers_construct(tmp_path: Path) -> None:
    program = program_copy(tmp_path, "helm_v4_chart", {"chart": str(packaged_chart(tmp_path))})
    run = run_program(program, "ci")
    objects = children(run, "kubernetes:helm.sh/v4:Chart")
    assert {r.inputs["kind"] for r in objects} == CHART_OBJECTS
    assert {r.name for r in objects} == {"shop:shop/shop-web"}  # the provider's own child names
    (chart,) = run.by_type("kubernetes:helm.sh/v4:Chart")
    assert chart.parent.endswith("::helm-v4-chart-ci")
    # the component's `resources` output comes back to the program as references to the children
    assert run.outputs["chartResources"] == len(objects)
    assert run.not_evaluated == []


@pytest.mark.parametrize(
    ("program", "component"),
    [
        ("yaml_v1_configfile", "kubernetes:yaml:ConfigFile"),
        ("yaml_v2_configfile", "kubernetes:yaml/v2:ConfigFile"),
    ],
)
def test_yaml_file_objects_are_the_config_files_children(program: str, component: str) -> None:
    run = run_program(PROGRAMS / program, "ci")
    objects = children(run, component)
    assert sorted(r.inputs["kind"] for r in objects) == sorted([*MANIFEST_OBJECTS, "NetworkPolicy"])
    (deployment,) = (r for r in objects if r.inputs["kind"] == "Deployment")
    container = deployment.inputs["spec"]["template"]["spec"]["containers"][0]
    assert "readinessProbe" not in container
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert run.not_evaluated == []


@pytest.mark.parametrize(
    ("program", "component"),
    [
        ("helm_v3_chart", "kubernetes:helm.sh/v3:Chart"),
        ("helm_v4_chart", "kubernetes:helm.sh/v4:Chart"),
        ("yaml_v1_configfile", "kubernetes:yaml:ConfigFile"),
        ("yaml_v2_configfile", "kubernetes:yaml/v2:ConfigFile"),
    ],
)
def test_without_the_provider_the_run_lists_what_it_could_not_see(
    program: str, component: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no-provider"
    monkeypatch.setenv(PROVIDER_ENV, str(missing))
    run = run_program(PROGRAMS / program, "ci")
    assert run.not_evaluated == [f"{component}::shop"]
    reason = run.not_evaluated_reasons[f"{component}::shop"]
    assert f"{PROVIDER_ENV}={missing}: not an executable file" in reason
    assert not [r for r in run.resources if r.parent and r.parent.endswith("::shop")]


def test_a_chart_the_provider_cannot_build_is_listed_with_its_error(tmp_path: Path) -> None:
    missing_chart = tmp_path / "nowhere"
    program = program_copy(tmp_path, "helm_v4_chart", {"chart": str(missing_chart)})
    run = run_program(program, "ci")
    assert run.not_evaluated == ["kubernetes:helm.sh/v4:Chart::shop"]
    assert str(missing_chart) in run.not_evaluated_reasons["kubernetes:helm.sh/v4:Chart::shop"]


def test_a_chart_the_provider_cannot_template_fails_the_run_with_its_error(tmp_path: Path) -> None:
    missing_chart = tmp_path / "nowhere"
    program = program_copy(tmp_path, "helm_v3_chart", {"chart": str(missing_chart)})
    with pytest.raises(Exception, match="kubernetes:helm:template") as raised:
        run_program(program, "ci")
    assert str(missing_chart) in str(raised.value)


def test_helm_releases_and_other_packages_components_are_listed() -> None:
    def program() -> None:
        k8s.helm.v3.Release("cache", chart="oci://registry.example.com/charts/redis", version="1.0.0")
        pulumi.ComponentResource("acme:index:Cluster", "db", None, remote=True)

    run = run_function(program)
    assert sorted(run.not_evaluated) == ["acme:index:Cluster::db", "kubernetes:helm.sh/v3:Release::cache"]
    assert "never registered" in run.not_evaluated_reasons["kubernetes:helm.sh/v3:Release::cache"]
    assert "'acme'" in run.not_evaluated_reasons["acme:index:Cluster::db"]
