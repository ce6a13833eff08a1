"""Stack references through a fleet: wave 1 deploys a callee stack of hastack's own program, wave 2 a
caller stack whose app calls it (`egress: [{stack, app}]`); the caller's NetworkPolicy and
environment carry what the callee's stack exports, read through the reference, the callee admits
the caller by its namespace's labels, and destroy removes the caller before the callee."""

from __future__ import annotations

import shutil

import yaml

from hastack_tools.common.checkout import REPO_ROOT
from tests.fleet.conftest import FleetDir, wait_for

FLEET = """\
name: references
stacks:
  - {name: refs-api, cluster: fleet-a, program: hastack}
  - {name: refs-web, cluster: fleet-a, program: hastack}
waves:
  - name: callee
    stacks: [refs-api]
    gates: {policy: false, availableTimeoutSeconds: 120, noChangePreview: false}
  - name: caller
    stacks: [refs-web]
    gates: {policy: false, availableTimeoutSeconds: 120}
"""
CALLEE_NAMESPACE = "refs-api-ns"
"""Not the stack's name: the caller's stack file never says it, so only the reference can give it."""


def hastack_stack(name: str, namespace: str, app: dict[str, object]) -> dict[str, object]:
    """A dev stack file of one app of hastack's test image (kwok nodes never pull it)."""
    base = {"image": "hastack.local/echo:0.1.0", "replicas": 2}
    return {
        "config": {
            "hastack:environment": "dev",
            "hastack:namespace": namespace,
            "hastack:apps": [{**base, **app}],
        }
    }


def test_a_caller_in_wave_two_reads_its_callee_of_wave_one_and_is_destroyed_first(
    fleet_dir: FleetDir,
) -> None:
    program = fleet_dir.root / "hastack"
    program.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO_ROOT / name, program / name)
    (program / ".venv").symlink_to(REPO_ROOT / ".venv", target_is_directory=True)
    stacks = {
        "refs-api": hastack_stack(
            "refs-api",
            CALLEE_NAMESPACE,
            {"name": "api", "port": 9090, "allowFromStacks": [{"stack": "refs-web", "app": "web"}]},
        ),
        "refs-web": hastack_stack(
            "refs-web",
            "refs-web",
            {"name": "web", "port": 8080, "egress": [{"stack": "refs-api", "app": "api"}]},
        ),
    }
    for name, document in stacks.items():
        (program / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(document))
    fleet_dir.write(FLEET)

    plan = fleet_dir.run("plan")
    assert plan.code == 0, plan.output
    assert "refs-web references refs-api (wave callee)" in plan.output
    # before wave 1 ran, the caller's program could not read its callee: not previewed, not a failure
    assert "refs-web on cluster fleet-a: not previewed: it reads refs-api, not deployed yet" in plan.output

    up = fleet_dir.run("up")
    assert up.code == 0, up.output
    api = fleet_dir.clusters["fleet-a"]
    _, policies = api.api("GET", "/apis/networking.k8s.io/v1/namespaces/refs-web/networkpolicies")
    (web,) = [p for p in policies["items"] if p["spec"]["podSelector"].get("matchLabels")]
    assert {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": CALLEE_NAMESPACE}},
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}},
            }
        ],
        "ports": [{"protocol": "TCP", "port": 9090}],
    } in web["spec"]["egress"]
    _, maps = api.api("GET", "/api/v1/namespaces/refs-web/configmaps")
    (env,) = [m for m in maps["items"] if m["metadata"]["name"].startswith("web-")]
    assert env["data"]["API_URL"] == f"http://api.{CALLEE_NAMESPACE}.svc.cluster.local:80"
    # the callee admits the caller by the labels the caller's namespace carries
    _, callee_policies = api.api(
        "GET", f"/apis/networking.k8s.io/v1/namespaces/{CALLEE_NAMESPACE}/networkpolicies"
    )
    (admits,) = [p for p in callee_policies["items"] if p["spec"]["podSelector"].get("matchLabels")]
    selector = admits["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]
    _, caller_namespace = api.api("GET", "/api/v1/namespaces/refs-web")
    assert selector.items() <= caller_namespace["metadata"]["labels"].items()
    assert selector["hastack.dev/stack"] == "refs-web"

    status = fleet_dir.run("status")
    assert "refs-web on cluster fleet-a: passed" in status.output
    assert "references refs-api (wave callee)" in status.output

    down = fleet_dir.run("destroy")
    assert down.code == 0, down.output
    # the caller goes first: the callee is never gone while a stack that reads it is deployed
    assert down.output.index("refs-web: destroyed") < down.output.index("refs-api: destroyed")
    for namespace in ("refs-web", CALLEE_NAMESPACE):
        wait_for(
            f"namespace {namespace} gone",
            lambda n=namespace: not fleet_dir.namespace_exists("fleet-a", n),
            timeout=120,
        )
