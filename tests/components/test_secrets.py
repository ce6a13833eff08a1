"""Generated secrets stay secret; the env ConfigMap and checksum roll the pods on change."""

from __future__ import annotations

import json

from hastack.secrets import checksum
from hastack_tools.dev.mockrun import is_secret, strip_secrets
from tests.conftest import minimal_config, objects, run_config


def test_checksum_changes_with_env_and_secret_values() -> None:
    base = checksum({"A": "1"}, ["s"])
    assert base == checksum({"A": "1"}, ["s"])
    assert base != checksum({"A": "2"}, ["s"])
    assert base != checksum({"A": "1"}, ["t"])
    assert "s" not in base


def test_generated_secret_is_random_password_and_secret_end_to_end() -> None:
    run = run_config(minimal_config(generatedSecrets=["SESSION_SECRET", "API_KEY"], env={"MODE": "x"}))
    passwords = [r for r in run.resources if r.type == "random:index/randomPassword:RandomPassword"]
    assert sorted(p.name for p in passwords) == ["web-api-key", "web-session-secret"]
    assert all(p.inputs["length"] == 32 for p in passwords)
    (secret,) = [
        r for r in run.resources if r.type == "kubernetes:core/v1:Secret" and r.inputs["type"] == "Opaque"
    ]
    assert is_secret(secret.inputs["stringData"])
    values = [strip_secrets(p.outputs["result"], None) for p in passwords]
    everything = json.dumps([strip_secrets(r.inputs) for r in run.resources]) + json.dumps(
        strip_secrets(run.outputs)
    )
    for value in values:
        assert value not in everything
    (rendered,) = [s for s in objects(run, "Secret") if s["type"] == "Opaque"]
    assert rendered["stringData"] == {"SESSION_SECRET": "<redacted>", "API_KEY": "<redacted>"}
    (config_map,) = objects(run, "ConfigMap")
    assert config_map["data"] == {"MODE": "x"} and config_map["immutable"] is True


def test_checksum_annotation_tracks_the_secret_values() -> None:
    run = run_config(minimal_config(generatedSecrets=["TOKEN"], env={"MODE": "x"}))
    (deployment,) = objects(run, "Deployment")
    (password,) = [r for r in run.resources if r.type == "random:index/randomPassword:RandomPassword"]
    expected = checksum({"MODE": "x"}, [strip_secrets(password.outputs["result"], None)])
    assert (
        deployment["spec"]["template"]["metadata"]["annotations"]["hastack.dev/config-checksum"] == expected
    )


def test_no_secret_object_without_generated_secrets() -> None:
    raw = minimal_config("prod")
    run = run_config(raw, "prod")
    assert objects(run, "Secret") == []
    (deployment,) = objects(run, "Deployment")
    env_from = deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert [list(e) for e in env_from] == [["configMapRef"]]
