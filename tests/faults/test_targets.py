"""Finding 1 (critical): `make up TARGET=render` on a deployed stack replaced all 18 objects and deleted
the live app, rc 0; and a render that failed against an unreachable cluster made the next plain `make up`
do it. Runbook: "Targets never to mix"."""

from __future__ import annotations

import json
import time

from tests.faults.conftest import FIGURES, Deployed, changes, runbook


def uids(stack: Deployed) -> dict[str, str]:
    found = stack.faults.cluster.kubectl_json(
        "get", "deployment,service,configmap,secret", "-n", stack.namespace
    )
    return {f"{i['kind']}/{i['metadata']['name']}": i["metadata"]["uid"] for i in found["items"]}


def test_a_render_of_a_deployed_stack_never_touches_the_app(deployed: Deployed) -> None:
    assert deployed.run("make up STACK=dev").code == 0
    reference = deployed.cluster_objects()
    before = uids(deployed)
    start = time.monotonic()
    rendered = deployed.run("make up STACK=dev", env={"TARGET": "render"})
    assert rendered.code == 0, rendered.output
    assert "render-state" in rendered.output, "render runs on a backend of its own"
    assert "deleted" not in rendered.output
    assert uids(deployed) == before, "the same objects, not replacements"
    # and the next plain up sees nothing to do: the render left the deploy stack's state alone
    check = deployed.run("make up STACK=dev")
    assert check.code == 0, check.output
    assert set(changes(check.output)) == {"unchanged"}, check.output
    assert uids(deployed) == before
    FIGURES["render_then_up"] = {
        "recovery": "none needed (render has its own state)",
        "seconds": round(time.monotonic() - start, 1),
        **deployed.assert_settled(reference),
    }


def test_a_render_while_the_cluster_is_down_then_up_replaces_nothing(deployed: Deployed) -> None:
    assert deployed.run("make up STACK=dev").code == 0
    reference = deployed.cluster_objects()
    before = uids(deployed)
    down = deployed.faults.script("down.sh")
    assert down.returncode == 0, down.stderr
    rendered = deployed.run("make up STACK=dev", env={"TARGET": "render"})
    assert rendered.code == 0, rendered.output  # a render needs no cluster
    deployed.faults.up()
    after = deployed.run("make up STACK=dev")
    assert after.code == 0, after.output
    assert set(changes(after.output)) == {"unchanged"}, after.output
    assert uids(deployed) == before, "the cluster kept its objects through stop and start"
    FIGURES["render_while_cluster_down"] = deployed.assert_settled(reference)


def test_a_stack_deployed_locally_is_refused_on_another_cluster(deployed: Deployed) -> None:
    """The same control plane under another address (`localhost`, in its certificate) stands for a second
    cluster: `kubeconfig` there must not take the stack over."""
    assert runbook("Targets never to mix") == []  # prose only: the refusal below is the runbook
    assert deployed.run("make up STACK=dev").code == 0
    reference = deployed.cluster_objects()
    kubeconfig = deployed.faults.cluster.kubeconfig
    other = deployed.workdir / "other-kubeconfig"
    config = json.loads(deployed.faults.cluster.kubectl("config", "view", "--raw", "-o", "json").stdout)
    config["clusters"][0]["cluster"]["server"] = config["clusters"][0]["cluster"]["server"].replace(
        "127.0.0.1", "localhost"
    )
    other.write_text(json.dumps(config))
    refused = deployed.run(
        "make up STACK=dev",
        env={
            "TARGET": "kubeconfig",
            "KUBECONFIG": str(other),
            "PULUMI_CONFIG_PASSPHRASE": "hastack-local-only",
        },
    )
    assert refused.code != 0
    assert "deployed to local; this command targets kubeconfig https://localhost:" in refused.output, (
        refused.output
    )
    assert "RETARGET=1" in refused.output
    assert kubeconfig.exists()
    deployed.assert_settled(reference)
