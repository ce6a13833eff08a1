"""examples/python as another team runs it: installed by the commands of docs/using-hastack.md into a
fresh venv outside the repo, then run under Pulumi's mocks in that venv. Two HA apps whose images, replica
count and host are Outputs of another resource."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from hastack_tools.common.checkout import REPO_ROOT
from tests.consumer import ConsumerProject

CONFIG = {"environment": "dev", "namespace": "shop"}
APPS = ("api", "web")
INSTANCE = "app.kubernetes.io/instance"


@pytest.fixture(scope="module")
def registered(consumer_project: ConsumerProject) -> list[dict[str, Any]]:
    result = consumer_project.run_under_mocks(CONFIG)
    assert "error" not in result, result.get("trace")
    resources: list[dict[str, Any]] = result["resources"]
    return resources


def objects(registered: list[dict[str, Any]], kind: str, app: str | None = None) -> list[dict[str, Any]]:
    """The Kubernetes objects of one kind (of one app, by its instance label) the program registered."""
    found = [
        r["inputs"] for r in registered if r["type"].startswith("kubernetes:") and r["type"].endswith(kind)
    ]
    if app is None:
        return found
    return [o for o in found if (o["metadata"].get("labels") or {}).get(INSTANCE) == app]


def test_the_venv_runs_the_installed_package_not_this_checkout(consumer_project: ConsumerProject) -> None:
    code = "import hastack, hastack_policy; print(hastack.__file__); print(hastack_policy.__file__)"
    done = subprocess.run(
        [str(consumer_project.venv / "bin" / "python"), "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=consumer_project.folder,
    )
    for line in done.stdout.splitlines():
        path = consumer_project.venv.joinpath("lib")
        assert line.startswith(str(path)), f"{line} is not in {path}"


def test_both_apps_take_their_image_and_replicas_from_the_release_outputs(
    registered: list[dict[str, Any]],
) -> None:
    (release,) = [c for c in objects(registered, "ConfigMap") if c["metadata"]["name"].startswith("release-")]
    for app in APPS:
        (deployment,) = objects(registered, "Deployment", app)
        assert deployment["metadata"]["namespace"] == "shop"
        assert deployment["spec"]["replicas"] == int(release["data"]["replicas"]) == 2
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["image"] == release["data"][app]
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        (pdb,) = objects(registered, "PodDisruptionBudget", app)
        assert pdb["spec"]["selector"] == deployment["spec"]["selector"]
        assert pdb["spec"]["maxUnavailable"] == 1
        assert len(objects(registered, "NetworkPolicy", app)) == 1
        assert len(objects(registered, "ServiceAccount", app)) == 1
        assert objects(registered, "HorizontalPodAutoscaler", app) == [], "replicas set: no HPA"
    (service,) = [s for s in objects(registered, "Service") if s["metadata"]["name"] == "api"]
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_web_is_exposed_on_the_computed_host_with_tls_and_api_is_not(
    registered: list[dict[str, Any]],
) -> None:
    (release,) = [c for c in objects(registered, "ConfigMap") if c["metadata"]["name"].startswith("release-")]
    (ingress,) = objects(registered, "Ingress")
    assert [rule["host"] for rule in ingress["spec"]["rules"]] == [release["data"]["host"]]
    (tls,) = ingress["spec"]["tls"]
    (secret,) = objects(registered, "Secret", "web")
    assert tls == {"hosts": [release["data"]["host"]], "secretName": secret["metadata"]["name"]}
    assert secret["stringData"] == "[secret]", "the certificate stays secret"
    assert objects(registered, "Ingress", "api") == []


def test_only_web_may_call_api(registered: list[dict[str, Any]]) -> None:
    (api_policy,) = objects(registered, "NetworkPolicy", "api")
    (web_policy,) = objects(registered, "NetworkPolicy", "web")
    web_pods = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}}}
    api_pods = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}}}
    assert api_policy["spec"]["ingress"] == [
        {"from": [web_pods], "ports": [{"port": 8080, "protocol": "TCP"}]}
    ]
    assert {"to": [api_pods], "ports": [{"port": 8080, "protocol": "TCP"}]} in web_policy["spec"]["egress"]
    (deny,) = [p for p in objects(registered, "NetworkPolicy") if p["spec"]["podSelector"] == {}]
    assert deny["spec"]["policyTypes"] == ["Ingress", "Egress"]


def test_a_computed_replica_count_below_the_floor_names_the_argument(
    consumer_project: ConsumerProject,
) -> None:
    result = consumer_project.run_under_mocks({**CONFIG, "replicas": "1"})
    assert "args.replicas: dev needs at least 2 replicas, got 1" in result.get("error", ""), result


def test_the_example_requirements_resolve_to_this_checkout_with_the_same_pins(
    consumer_project: ConsumerProject,
) -> None:
    """`pip install -r requirements.txt` (run from examples/python, as its comment says) in the venv the
    guide made would add only hastack from this checkout: every pin already matches."""
    done = subprocess.run(
        [
            str(consumer_project.venv / "bin" / "pip"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--dry-run",
            "--report",
            "-",
            "-r",
            "requirements.txt",
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT / "examples" / "python",
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    installs = [(i["metadata"]["name"], i["download_info"]["url"]) for i in report["install"]]
    assert installs == [("hastack", REPO_ROOT.as_uri())]
