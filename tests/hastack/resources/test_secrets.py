"""Generated secrets stay secret; the env ConfigMap and checksum roll the pods on change."""

from __future__ import annotations

import copy
import json
import runpy
from pathlib import Path
from typing import Any

import pytest
import yaml

from hastack.config import ConfigError, validate
from hastack.config.errors import SECRET_STAND_IN
from hastack.config.load import secure_paths_in_stack_file
from hastack.resources.secrets import checksum
from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.common.project import engine_config
from hastack_tools.common.stack_secrets import LOCAL_PASSPHRASE, encrypter, new_salt
from hastack_tools.dev.mockrun import is_secret, run_function, run_program, strip_secrets
from tests.conftest import engine_strings, minimal_config, objects, parsed, run_config


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


STACK_SECRET = "s3cr3t-db-password"


def stack_secret_config(environment: str = "dev", **app: Any) -> dict[str, Any]:
    return minimal_config(environment, env={"MODE": "x"}, secretEnv={"DB_PASSWORD": STACK_SECRET}, **app)


def run_with_secret_apps(raw: dict[str, Any], stack: str = "test") -> Any:
    """As the engine runs it: the `apps` key holds a secure leaf, so the whole key is marked secret."""
    return run_function(
        program_of_repo,
        project="hastack",
        stack=stack,
        config=engine_strings(raw),
        secret_keys=["hastack:apps"],
    )


def program_of_repo() -> None:
    runpy.run_path(str(REPO_ROOT / "__main__.py"), run_name="__main__")


def test_stack_secret_reaches_the_pod_only_through_the_secret() -> None:
    run = run_with_secret_apps(stack_secret_config())
    (secret,) = [
        r for r in run.resources if r.type == "kubernetes:core/v1:Secret" and r.inputs["type"] == "Opaque"
    ]
    assert secret.secret_paths == (("stringData",),)
    assert strip_secrets(secret.inputs["stringData"], None) == {"DB_PASSWORD": STACK_SECRET}
    (config_map,) = objects(run, "ConfigMap")
    assert config_map["data"] == {"MODE": "x"}
    (deployment,) = objects(run, "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert [list(e) for e in container["envFrom"]] == [["configMapRef"], ["secretRef"]]
    # A digest of a short stack secret could be guessed: the checksum leaves it out (a changed
    # value replaces the immutable Secret, and its new name rolls the pods).
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["hastack.dev/config-checksum"] == checksum({"MODE": "x"}, [])
    everywhere = json.dumps([strip_secrets(r.inputs) for r in run.resources]) + json.dumps(
        strip_secrets(run.outputs)
    )
    assert STACK_SECRET not in everywhere


def test_stack_secret_never_in_rendered_files(tmp_path: Path) -> None:
    from hastack_tools.dev.render import write

    run = run_with_secret_apps(stack_secret_config("prod"), "prod")
    write(run, tmp_path)
    written = "".join(p.read_text() for p in tmp_path.iterdir() if p.is_file())
    assert STACK_SECRET not in written and "<redacted>" in written


def test_prod_mounts_secrets_as_files_unless_the_app_asks_for_env() -> None:
    run = run_with_secret_apps(stack_secret_config("prod", generatedSecrets=["TOKEN"]), "prod")
    (deployment,) = objects(run, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert [list(e) for e in container["envFrom"]] == [["configMapRef"]]
    (secret,) = objects(run, "Secret")
    assert {"name": "secrets", "mountPath": "/var/run/secrets/hastack", "readOnly": True} in container[
        "volumeMounts"
    ]
    assert {
        "name": "secrets",
        "secret": {"secretName": secret["metadata"]["name"], "defaultMode": 0o440},
    } in pod["volumes"]
    as_env = run_with_secret_apps(stack_secret_config("prod", secretsAs="env"), "prod")
    (deployment,) = objects(as_env, "Deployment")
    assert [list(e) for e in deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]] == [
        ["configMapRef"],
        ["secretRef"],
    ]
    as_files = run_with_secret_apps(stack_secret_config("dev", secretsAs="files"))
    (deployment,) = objects(as_files, "Deployment")
    assert len(deployment["spec"]["template"]["spec"]["volumes"]) == 2


def load_problems(raw: dict[str, Any], secret_keys: list[str]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        validate(copy.deepcopy(raw), "Pulumi.test.yaml", secret_keys)
    return raised.value.problems


def test_secret_env_must_be_secure_and_the_message_never_shows_it() -> None:
    (problem,) = load_problems(stack_secret_config(), [])
    assert problem.startswith("hastack:apps[0].secretEnv.DB_PASSWORD: must be a secure value")
    assert STACK_SECRET not in problem


def test_secure_values_outside_secret_env_are_refused_by_path() -> None:
    raw = minimal_config(env={"DB_PASSWORD": SECRET_STAND_IN})
    problems = load_problems(raw, ["apps", "namespace"])
    assert problems == [
        "hastack:namespace: holds a secure value, but only apps[].secretEnv takes stack secrets (anything "
        "else is used in plain text), got a secret value (not shown)",
        "hastack:apps: holds a secure value, but no app has secretEnv; stack secrets go under "
        "apps[].secretEnv (anything else is used in plain text), got a secret value (not shown)",
        "hastack:apps[0].env.DB_PASSWORD: is a secure value; stack secrets go under secretEnv (anything "
        "else is used in plain text), got a secret value (not shown)",
    ]


def test_secret_env_errors_never_show_the_value() -> None:
    raw = minimal_config(secretEnv={"DB_PASSWORD": {"nested": STACK_SECRET}, "bad-name": STACK_SECRET})
    raw["apps"][0]["env"] = {"DB_PASSWORD": "x"}
    with pytest.raises(ConfigError) as raised:
        validate(copy.deepcopy(raw), "Pulumi.test.yaml", ["apps"])
    text = str(raised.value)
    assert STACK_SECRET not in text
    assert "hastack:apps[0].secretEnv.DB_PASSWORD: must be text, got a secret value (not shown)" in text
    assert "hastack:apps[0].secretEnv.bad-name: must be an environment variable name" in text
    collision = minimal_config(env={"DB_PASSWORD": "x"}, secretEnv={"DB_PASSWORD": STACK_SECRET})
    (problem,) = load_problems(collision, ["apps"])
    assert problem == (
        "hastack:apps[0].secretEnv.DB_PASSWORD: is also in env; one source per variable, "
        "got a secret value (not shown)"
    )


def test_ciphertext_in_any_error_is_shown_redacted() -> None:
    raw = minimal_config(replicas={"secure": "v1:CIPHERTEXT"})
    with pytest.raises(ConfigError) as raised:
        parsed(raw)
    assert "CIPHERTEXT" not in str(raised.value) and "[secret]" in str(raised.value)


def test_stack_file_secure_leaves_reach_only_the_secret_under_mocks(tmp_path: Path) -> None:
    """A nested `secure:` leaf, decrypted offline with the file's salt as the engine does: the key is
    marked secret, the value reaches the api Secret and no ConfigMap."""
    stack = yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text())
    stack["encryptionsalt"] = new_salt(LOCAL_PASSPHRASE)
    seal = encrypter(tmp_path / "Pulumi.dev.yaml", stack["encryptionsalt"], LOCAL_PASSPHRASE)
    ciphertext = seal("postgres://db:5432/shop")
    stack["config"]["hastack:apps"][1]["secretEnv"] = {"DB_URL": {"secure": ciphertext}}
    (tmp_path / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "__main__.py").write_text((REPO_ROOT / "__main__.py").read_text())
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    config, secret_keys = engine_config(tmp_path, "dev")
    assert ciphertext not in json.dumps(config) and secret_keys == ["hastack:apps"]
    run = run_program(tmp_path, "dev")
    (api_secret,) = [r for r in run.resources if r.type == "kubernetes:core/v1:Secret" and r.name == "api"]
    data = strip_secrets(api_secret.inputs["stringData"], None)
    assert sorted(data) == ["DB_PASSWORD", "DB_URL", "JWT_SIGNING_KEY"]
    assert data["DB_URL"] == "postgres://db:5432/shop"
    config_maps = [m["data"] for m in objects(run, "ConfigMap")]
    assert all("DB_URL" not in data for data in config_maps)


def test_under_the_real_engine_the_stack_file_says_which_leaf_was_secure(tmp_path: Path) -> None:
    """The engine hands the program decrypted values and marks all of `hastack:apps` secret, so a
    secure leaf in one app's env looks like plain text; the stack file's `secure:` leaves name it."""
    raw = minimal_config(secretEnv={"DB_PASSWORD": STACK_SECRET})
    web = raw["apps"][0]
    worker = {k: v for k, v in web.items() if k not in ("ingress", "secretEnv")}
    raw["apps"].append({**worker, "name": "worker", "env": {"API_TOKEN": STACK_SECRET}})  # decrypted
    on_file = copy.deepcopy(raw)
    on_file["apps"][0]["secretEnv"]["DB_PASSWORD"] = {"secure": "v1:Q0lQSEVSVEVYVA=="}
    on_file["apps"][1]["env"]["API_TOKEN"] = {"secure": "v1:T1RIRVI="}
    stack_file = tmp_path / "Pulumi.prod.yaml"
    stack_file.write_text(yaml.safe_dump({"config": {"hastack:apps": on_file["apps"]}}))
    paths = secure_paths_in_stack_file(stack_file)
    assert paths == [(0, "secretEnv", "DB_PASSWORD"), (1, "env", "API_TOKEN")]
    assert validate(copy.deepcopy(raw), "Pulumi.prod.yaml", ["apps"])  # without the file: not seen
    with pytest.raises(ConfigError) as raised:
        validate(copy.deepcopy(raw), "Pulumi.prod.yaml", ["apps"], paths)
    assert raised.value.problems == [
        "hastack:apps[1].env.API_TOKEN: is a secure value; stack secrets go under secretEnv (anything "
        "else is used in plain text), got a secret value (not shown)"
    ]
    assert STACK_SECRET not in str(raised.value)
    assert secure_paths_in_stack_file(tmp_path / "Pulumi.absent.yaml") == []
