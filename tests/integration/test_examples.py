"""The example programs through the real engine (preview, up, destroy) into the local control plane:
examples/yaml through hastack's component package (provider/), examples/python from the venv outside
the repo that the guide's commands build, and the policy pack written for another repository.

Each deployment gets a namespace of its own (a stack someone brought up by hand is never touched),
its state a temporary file backend; the HA objects are read back from the API server.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.ops import engine
from tests.consumer import ConsumerProject, block_failed, guide_blocks
from tests.e2e.kube import Cluster, wait_until
from tests.integration.conftest import pulumi_cli

pytestmark = pytest.mark.integration

YAML_EXAMPLE = REPO_ROOT / "examples" / "yaml"
YAML_RESOURCES = 27
"""What `pulumi up` of examples/yaml creates (the stack, providers, components and objects)."""
INSTANCE = "app.kubernetes.io/instance"
KINDS = "deployments,services,poddisruptionbudgets,networkpolicies,ingresses,horizontalpodautoscalers,secrets"


def unique_namespace(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def live_objects(cluster: Cluster, namespace: str) -> dict[str, list[dict[str, Any]]]:
    """What the API server holds in the namespace, by kind."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for item in cluster.kubectl_json("-n", namespace, "get", KINDS)["items"]:
        by_kind.setdefault(item["kind"], []).append(item)
    return by_kind


def of_app(objects: dict[str, list[dict[str, Any]]], kind: str, app: str) -> list[dict[str, Any]]:
    return [o for o in objects.get(kind, []) if (o["metadata"].get("labels") or {}).get(INSTANCE) == app]


def assert_ha_app(cluster: Cluster, namespace: str, app: str, *, image: str, replicas: int) -> None:
    """One app's HA objects, live: a Deployment at its replica count that keeps capacity in a rollout,
    a PDB over the same pods that allows one eviction, a NetworkPolicy selecting them, the Service."""
    objects = live_objects(cluster, namespace)
    (deployment,) = of_app(objects, "Deployment", app)
    spec = deployment["spec"]
    assert spec["replicas"] == replicas
    assert deployment["status"].get("readyReplicas") == replicas
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pod = spec["template"]["spec"]
    assert [c["image"] for c in pod["containers"]] == [image]
    assert pod["securityContext"]["runAsNonRoot"] is True
    selector = spec["selector"]["matchLabels"]
    pod_labels = spec["template"]["metadata"]["labels"]
    (pdb,) = of_app(objects, "PodDisruptionBudget", app)
    assert pdb["spec"]["selector"]["matchLabels"] == selector
    assert pdb["spec"]["maxUnavailable"] == 1
    (policy,) = of_app(objects, "NetworkPolicy", app)
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    (service,) = [s for s in objects["Service"] if s["metadata"]["name"] == app]
    assert service["spec"]["selector"] == selector
    assert of_app(objects, "HorizontalPodAutoscaler", app) == [], "a fixed replica count: no HPA"

    def one_eviction_allowed() -> bool:
        status = cluster.kubectl_json("-n", namespace, "get", "pdb", pdb["metadata"]["name"]).get(
            "status", {}
        )
        return bool(status.get("currentHealthy") == replicas and status.get("disruptionsAllowed") == 1)

    wait_until(
        f"{app}: the disruption budget counts {replicas} healthy pods, allows 1 eviction",
        one_eviction_allowed,
    )


def assert_ingress_with_tls(cluster: Cluster, namespace: str, app: str, host: str) -> None:
    objects = live_objects(cluster, namespace)
    (ingress,) = of_app(objects, "Ingress", app)
    assert [rule["host"] for rule in ingress["spec"]["rules"]] == [host]
    (tls,) = ingress["spec"]["tls"]
    secrets = {s["metadata"]["name"]: s for s in objects["Secret"]}
    assert secrets[tls["secretName"]]["type"] == "kubernetes.io/tls"


def stack_outputs(env: dict[str, str], workdir: Path, project: str, stack: str) -> dict[str, Any]:
    backend = {"PULUMI_BACKEND_URL": engine.backend_url({}, workdir)}
    workspace = engine.StackWorkspace(project, stack, workdir, backend["PULUMI_BACKEND_URL"])
    done = pulumi_cli({**env, **backend}, "stack", "output", "--json", "--stack", stack, cwd=workspace.folder)
    assert done.returncode == 0, done.stderr
    outputs: dict[str, Any] = json.loads(done.stdout)
    return outputs


def namespace_gone(cluster: Cluster, namespace: str) -> bool:
    return cluster.kubectl("get", "namespace", namespace, check=False).returncode != 0


def test_yaml_program_deploys_two_apps_that_can_talk_through_the_component_package(
    engine_env: dict[str, str], local_cluster: Cluster, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """examples/yaml: an AppGroup of web and api (api admits web) with a PriorityClass of its own, and
    one key of each kind the component schema once lacked, deployed and read back."""
    namespace = unique_namespace("yaml-example")
    config = ["--config", f"namespace={namespace}"]
    program = yaml.safe_load((YAML_EXAMPLE / "Pulumi.yaml").read_text())
    web, api = program["resources"]["shop"]["properties"]["apps"]
    try:
        assert engine.run("preview", YAML_EXAMPLE, "dev", "local", config, workdir=tmp_path) == 0
        preview = capfd.readouterr().out
        for line in ("hastack:index:AppGroup shop create", "hastack:index:HighlyAvailableApp web create"):
            assert line in preview
        assert "hastack-ha@v1" in preview
        assert engine.run("up", YAML_EXAMPLE, "dev", "local", config, workdir=tmp_path) == 0
        assert f"{YAML_RESOURCES} created" in capfd.readouterr().out
        for app in (web, api):
            assert_ha_app(local_cluster, namespace, app["name"], image=app["image"], replicas=app["replicas"])
        assert_ingress_with_tls(local_cluster, namespace, "web", web["ingress"]["hosts"][0])
        objects = live_objects(local_cluster, namespace)
        (web_policy,) = of_app(objects, "NetworkPolicy", "web")
        to_api = {
            "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}}}],
            "ports": [{"port": 9090, "protocol": "TCP"}],
        }
        assert to_api in web_policy["spec"]["egress"]
        (deployment,) = of_app(objects, "Deployment", "web")
        pod = deployment["spec"]["template"]["spec"]
        assert pod["priorityClassName"].startswith("serving-")
        assert pod["containers"][0]["resources"]["requests"]["ephemeral-storage"] == "256Mi"
        routes = local_cluster.kubectl_json("-n", namespace, "get", "httproutes,backendtrafficpolicies")[
            "items"
        ]
        (policy,) = [r for r in routes if r["kind"] == "BackendTrafficPolicy"]
        assert policy["spec"]["healthCheck"]["passive"]["consecutive5XxErrors"] == 3
        outputs = stack_outputs(engine_env, tmp_path, program["name"], "dev")
        assert outputs["serviceDnsNames"] == {
            "api": f"api.{namespace}.svc.cluster.local",
            "web": f"web.{namespace}.svc.cluster.local",
        }
        assert outputs["resourceNames"]["web"]["deployment"] == deployment["metadata"]["name"]
        no_changes = [*config, "--expect-no-changes"]
        assert engine.run("preview", YAML_EXAMPLE, "dev", "local", no_changes, workdir=tmp_path) == 0, (
            "no diff"
        )
    finally:
        destroyed = engine.run("destroy", YAML_EXAMPLE, "dev", "local", workdir=tmp_path)
    assert destroyed == 0
    assert f"{YAML_RESOURCES} deleted" in capfd.readouterr().out
    assert namespace_gone(local_cluster, namespace)


def release_data(cluster: Cluster, namespace: str) -> dict[str, str]:
    """The data of the example's release ConfigMap, as the cluster holds it."""
    maps = cluster.kubectl_json("-n", namespace, "get", "configmaps")["items"]
    (release,) = [m for m in maps if m["metadata"]["name"].startswith("release-")]
    data: dict[str, str] = release["data"]
    return data


def test_python_example_deploys_two_ha_apps_from_its_own_venv(
    engine_env: dict[str, str],
    local_cluster: Cluster,
    consumer_project: ConsumerProject,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The guide's project (examples/python, a venv outside the repo with hastack from pip) through the
    engine: images, replica count and host reach the apps from the release ConfigMap's outputs."""
    program = consumer_project.folder
    namespace = unique_namespace("python-example")
    config = ["--config", f"namespace={namespace}"]
    try:
        assert engine.run("preview", program, "dev", "local", config, workdir=tmp_path) == 0
        preview = capfd.readouterr().out
        for app in ("api", "web"):
            assert f"hastack:index:HighlyAvailableApp {app} create" in preview
        assert engine.run("up", program, "dev", "local", config, workdir=tmp_path) == 0
        assert "hastack-ha@v1" in capfd.readouterr().out
        release = release_data(local_cluster, namespace)
        for app in ("api", "web"):
            assert_ha_app(
                local_cluster, namespace, app, image=release[app], replicas=int(release["replicas"])
            )
        assert_ingress_with_tls(local_cluster, namespace, "web", release["host"])
        outputs = stack_outputs(engine_env, tmp_path, "hastack-python-example", "dev")
        assert outputs == {
            "api": f"api.{namespace}.svc.cluster.local",
            "urls": [f"https://{release['host']}/"],
        }
        no_changes = [*config, "--expect-no-changes"]
        assert engine.run("preview", program, "dev", "local", no_changes, workdir=tmp_path) == 0, "no diff"
    finally:
        destroyed = engine.run("destroy", program, "dev", "local", workdir=tmp_path)
    assert destroyed == 0
    assert namespace_gone(local_cluster, namespace)


def consumer_cli_env(engine_env: dict[str, str], local_cluster: Cluster, state: Path) -> dict[str, str]:
    """The toolchain on PATH, a file backend of the test's own and the local control plane."""
    state.mkdir(parents=True, exist_ok=True)
    return {**engine_env, "PULUMI_BACKEND_URL": state.as_uri(), "KUBECONFIG": str(local_cluster.kubeconfig)}


def test_the_policy_pack_runs_from_another_repository(
    engine_env: dict[str, str], local_cluster: Cluster, consumer_project: ConsumerProject, tmp_path: Path
) -> None:
    """The guide's pack block as written, in the project outside the repo: the pack it writes runs
    the installed rules in the project's venv; dev passes, prod's floors are reported as violations."""
    env = consumer_cli_env(engine_env, local_cluster, tmp_path / "state")
    done = consumer_project.run_block(guide_blocks("bash")[1], env, timeout=600)
    assert done.returncode == 0, block_failed("the guide's policy pack block", done)
    pack = consumer_project.folder / "policy"
    assert f"virtualenv: {consumer_project.venv.resolve()}\n" in (pack / "PulumiPolicy.yaml").read_text()
    assert "hastack-ha@v1 (local: policy)" in done.stdout
    assert "[mandatory]" not in done.stdout
    prod = pulumi_cli(
        env,
        *("preview", "--stack", "dev", "--non-interactive", "--policy-pack", str(pack)),
        *("--policy-pack-config", str(pack / "config" / "prod.json")),
        cwd=consumer_project.folder,
    )
    assert prod.returncode != 0
    for app in ("api", "web"):
        assert (
            f"[mandatory] [severity: high]  min-replicas  (kubernetes:apps/v1:Deployment: {app})"
            in prod.stdout
        )
    assert "spec.replicas is 2; at least 3 needed" in prod.stdout


def test_the_guide_yaml_program_previews_with_the_package_from_the_consumer_venv(
    engine_env: dict[str, str], local_cluster: Cluster, consumer_project: ConsumerProject, tmp_path: Path
) -> None:
    """The guide's YAML program, `<hastack clone>` filled in, previewed with the component package's
    plugin running in the project's venv (PULUMI_PYTHON_VIRTUALENV), not in this repo's."""
    (block,) = guide_blocks("yaml")
    program = tmp_path / "shop-yaml"
    program.mkdir()
    (program / "Pulumi.yaml").write_text(block.replace("<hastack clone>", str(REPO_ROOT)))
    env = {
        **consumer_cli_env(engine_env, local_cluster, tmp_path / "state"),
        "PULUMI_PYTHON_VIRTUALENV": str(consumer_project.venv),
    }
    init = pulumi_cli(env, "stack", "init", "dev", "--secrets-provider", "passphrase", cwd=program)
    assert init.returncode == 0, init.stderr
    preview = pulumi_cli(env, "preview", "--stack", "dev", "--non-interactive", cwd=program)
    assert preview.returncode == 0, preview.stdout + preview.stderr
    for line in ("hastack:index:HighlyAvailableApp web create", "kubernetes:apps/v1:Deployment web create"):
        assert line in preview.stdout
    assert 'serviceDnsName: "web.shop-yaml.svc.cluster.local"' in preview.stdout
    schema = pulumi_cli(env, "package", "get-schema", str(REPO_ROOT / "provider"), cwd=program)
    assert schema.returncode == 0, schema.stderr
    component = json.loads(schema.stdout)["resources"]["hastack:index:HighlyAvailableApp"]
    assert {"environment", "namespace", "image", "port", "replicas"} <= set(component["inputProperties"])
    assert {"serviceDnsName", "urls", "resourceNames"} <= set(component["properties"])
