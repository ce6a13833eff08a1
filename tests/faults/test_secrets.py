"""Finding 2: the README's `pulumi config set --secret --path` wrote a new salt into the repo's stack file
and `make up` then failed `cipher: message authentication failed`; losing the generated config (a failed
`pulumi stack ls` deleted it) or switching backends lost the salt for good. Finding 8: Secrets sat
unencrypted in the local etcd. Runbook: "Setting and rotating a stack secret"."""

from __future__ import annotations

import base64
import json
import shutil
import time
import urllib.request

import yaml

from tests.faults.conftest import FIGURES, Deployed, runbook

VALUE = "fault-" + "tier-db-password-5c1e"


def secret_value(stack: Deployed, app: str, key: str) -> str:
    secrets = stack.faults.cluster.kubectl_json(
        "get", "secrets", "-n", stack.namespace, "-l", f"app.kubernetes.io/name={app}"
    )
    (secret,) = [s for s in secrets["items"] if key in (s.get("data") or {})]
    return base64.b64decode(secret["data"][key]).decode()


def everything_but_the_secret(stack: Deployed, output: str) -> list[str]:
    config_maps = stack.faults.cluster.kubectl(
        "get", "configmaps", "-n", stack.namespace, "-o", "yaml"
    ).stdout
    workspace_files = [p.read_text() for p in stack.workspace.folder.rglob("*") if p.is_file()]
    return [output, config_maps, json.dumps(stack.state()), *workspace_files]


def test_make_secret_then_up_puts_the_value_in_the_secret_and_nowhere_else(deployed: Deployed) -> None:
    set_it, up = runbook("Setting and rotating a stack secret")
    assert (
        set_it.startswith("make secret STACK=dev KEY='apps[0].secretEnv.DB_PASSWORD' <")
        and up == "make up STACK=dev"
    )
    stack_file = deployed.program / "Pulumi.dev.yaml"
    # a stack file before a team's first secret: no salt, no secure value (dev's own has an example)
    fresh = yaml.safe_load(stack_file.read_text())
    fresh.pop("encryptionsalt")
    for app in fresh["config"]["hastack:apps"]:
        app.pop("secretEnv", None)
    stack_file.write_text(yaml.safe_dump(fresh, sort_keys=False))
    before = stack_file.read_text()
    start = time.monotonic()
    done = deployed.run("make secret STACK=dev KEY=apps[0].secretEnv.DB_PASSWORD", stdin=VALUE + "\n")
    assert done.code == 0, done.output
    assert VALUE not in done.output
    after = stack_file.read_text()
    assert after.startswith(before.split("config:")[0] + "encryptionsalt: v1:"), (
        "the salt, committed with the file"
    )
    assert "secure: v1:" in after and VALUE not in after
    deployed_up = deployed.run(up)
    assert deployed_up.code == 0, deployed_up.output
    assert secret_value(deployed, "web", "DB_PASSWORD") == VALUE
    for text in everything_but_the_secret(deployed, done.output + deployed_up.output):
        assert VALUE not in text
    FIGURES["set_stack_secret"] = {
        "recovery": "make secret + make up",
        "seconds": round(time.monotonic() - start, 1),
    }

    # the generated config lost (it holds a copy of the salt): the stack file's own salt decrypts
    shutil.rmtree(deployed.workspace.folder)
    again = deployed.run("make up STACK=dev")
    assert again.code == 0, again.output
    # another backend: its own workspace, the same one salt
    (deployed.workdir / "other").mkdir(exist_ok=True)
    elsewhere = deployed.run(
        "make preview STACK=dev", env={"PULUMI_BACKEND_URL": f"file://{deployed.workdir / 'other'}"}
    )
    assert elsewhere.code == 0, elsewhere.output
    # rotation: a new value, one more up, the Secret holds it
    rotated = deployed.run(
        "make secret STACK=dev KEY=apps[0].secretEnv.DB_PASSWORD", stdin=VALUE + "-rotated"
    )
    assert rotated.code == 0, rotated.output
    assert deployed.run("make up STACK=dev").code == 0
    assert secret_value(deployed, "web", "DB_PASSWORD") == VALUE + "-rotated"
    deployed.assert_settled()


def test_secrets_are_encrypted_at_rest_in_the_local_etcd(deployed: Deployed) -> None:
    assert deployed.run("make up STACK=dev").code == 0
    ports = dict(line.split("=") for line in (deployed.faults.cluster.run_dir / "ports").read_text().split())
    names = deployed.faults.cluster.kubectl(
        "get", "secrets", "-n", deployed.namespace, "-o", "name"
    ).stdout.split()
    assert names
    for name in names:
        key = f"/registry/secrets/{deployed.namespace}/{name.split('/', 1)[1]}"
        request = urllib.request.Request(
            f"http://127.0.0.1:{ports['ETCD_PORT']}/v3/kv/range",
            data=json.dumps({"key": base64.b64encode(key.encode()).decode()}).encode(),
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            (kv,) = json.loads(response.read())["kvs"]
        stored = base64.b64decode(kv["value"])
        assert stored.startswith(b"k8s:enc:secretbox:v1:key1:"), stored[:40]
