"""The real Pulumi engine, providers and policy pack: up/destroy in render mode, preview gates,
the S3 backend with its lock, and state backup/restore through the CLI."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.dev import gate
from hastack_tools.dev.render import render_groups
from hastack_tools.ops import engine, state_backup
from tests.conftest import program_run_of
from tests.e2e.kube import Cluster
from tests.integration.conftest import AWS_TEST_ENV, pulumi_cli

pytestmark = pytest.mark.integration

AUTO_SUFFIX = re.compile(r"-[0-9a-f]{8}\b")
CHECKSUM = "hastack.dev/config-checksum"


def comparable(manifest: dict[str, Any]) -> str:
    """A manifest with what legitimately differs between two runs taken out: auto-name suffixes,
    secret values (keys kept), the checksum over them and the provider's auto-name marker."""
    item = json.loads(json.dumps(manifest))
    metadata = item.setdefault("metadata", {})
    annotations = metadata.get("annotations") or {}
    annotations.pop("pulumi.com/autonamed", None)
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    if item.get("kind") == "Secret":
        keys = sorted({*(item.pop("data", None) or {}), *(item.pop("stringData", None) or {})})
        item["secretKeys"] = keys
    template = item.get("spec", {}).get("template", {}).get("metadata", {})
    if CHECKSUM in (template.get("annotations") or {}):
        template["annotations"][CHECKSUM] = "<checksum>"
    return AUTO_SUFFIX.sub("-<auto>", json.dumps(item, sort_keys=True))


def rendered_by_engine(folder: Path) -> list[str]:
    documents = [
        d for path in sorted(folder.rglob("*.yaml")) for d in yaml.safe_load_all(path.read_text()) if d
    ]
    return sorted(comparable(d) for d in documents)


def test_up_renders_what_make_render_renders_then_destroy_removes_it(
    engine_env: dict[str, str], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert engine.run("up", REPO_ROOT, "dev", "render", workdir=tmp_path) == 0
    output = capfd.readouterr().out
    assert "27 created" in output
    render_dir = engine.StackWorkspace(
        "hastack", "dev", tmp_path, f"file://{tmp_path / 'render-state'}"
    ).render_dir
    from_engine = rendered_by_engine(render_dir)
    groups = render_groups(program_run_of("dev"))
    from_mocks = sorted(comparable(m) for items in groups.values() for m in items)
    assert from_engine == from_mocks
    secret_files = list(render_dir.rglob("*secret*.yaml"))
    assert secret_files
    for path in secret_files:
        for value in (yaml.safe_load(path.read_text()).get("data") or {}).values():
            assert value == engine.REDACTED_B64
    # a second up changes nothing (no perpetual diff)
    assert engine.run("preview", REPO_ROOT, "dev", "render", ["--expect-no-changes"], workdir=tmp_path) == 0
    assert engine.run("destroy", REPO_ROOT, "dev", "render", workdir=tmp_path) == 0
    assert list(render_dir.rglob("*.yaml")) == []
    assert "27 deleted" in capfd.readouterr().out


def test_preview_gates_with_the_policy_pack(
    engine_env: dict[str, str], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert engine.run("preview", REPO_ROOT, "prod", "render", workdir=tmp_path) == 0
    assert "hastack-ha" in capfd.readouterr().out
    code = engine.run(
        "preview", REPO_ROOT / "tests" / "programs" / "bad_ha", "ci", "render", workdir=tmp_path
    )
    output = capfd.readouterr().out
    assert code != 0
    for rule in ("probes-present", "min-replicas"):  # judged by the outside profile, as the gate judges it
        assert f"[mandatory] [severity: high]  {rule}" in output
    assert "[advisory] [severity: high]  rolling-update-keeps-capacity" in output
    assert "image-pinned" not in output  # a fixed version tag: no digest demanded of an outside program
    assert "preview failed" in output


def s3_backend(endpoint: str, bucket: str) -> str:
    return f"s3://{bucket}?endpoint={endpoint.removeprefix('http://')}&disableSSL=true&s3ForcePathStyle=true&region=us-east-1"


def test_s3_backend_keeps_state_in_the_bucket_and_locks_the_stack(
    engine_env: dict[str, str],
    local_cluster: Cluster,
    s3_endpoint: str,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two machines (two workdirs) share a stack in the bucket: the second is refused by the backend's
    lock, read from the bucket and named; the first completes and releases it. (Render stacks keep a
    local state of their own, so this runs on the local control plane.)"""
    for key, value in AWS_TEST_ENV.items():
        monkeypatch.setenv(key, value)
    client = state_backup.s3_client(s3_endpoint)
    client.create_bucket(Bucket="hastack-state")
    env = {**AWS_TEST_ENV, "PULUMI_BACKEND_URL": s3_backend(s3_endpoint, "hastack-state")}
    program = tmp_path / "slow_app"
    program.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        (program / name).write_text((REPO_ROOT / "tests" / "programs" / "slow_app" / name).read_text())
    (program / "Pulumi.ci.yaml").write_text("config:\n  slow-app:sleepSeconds: 12\n")
    local_cluster.kubectl("create", "namespace", "slow", check=False)
    results: list[int] = []
    first = threading.Thread(
        target=lambda: results.append(
            engine.run("up", program, "ci", "local", workdir=tmp_path / "one", env_overrides=env)
        )
    )
    first.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        keys = [o["Key"] for o in client.list_objects_v2(Bucket="hastack-state").get("Contents", [])]
        if any("/locks/" in key for key in keys):
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"no lock object appeared in the bucket: {keys}")
    with pytest.raises(engine.EngineError, match=r"stack ci is locked by an update of .* pid \d+"):
        engine.run("up", program, "ci", "local", workdir=tmp_path / "two", env_overrides=env)
    first.join(timeout=180)
    assert results == [0]
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="hastack-state").get("Contents", [])]
    assert any(key.startswith(".pulumi/stacks/slow-app/ci.json") for key in keys), keys
    assert not any("/locks/" in key for key in keys), "the lock is released after the update"
    assert engine.run("destroy", program, "ci", "local", workdir=tmp_path / "one", env_overrides=env) == 0


def test_backup_and_restore_through_the_cli(
    engine_env: dict[str, str], s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in AWS_TEST_ENV.items():
        monkeypatch.setenv(key, value)
    assert engine.run("up", REPO_ROOT, "dev", "render", workdir=tmp_path) == 0
    backend = f"file://{tmp_path / 'render-state'}"  # render stacks keep a state of their own
    env = {**engine_env, **AWS_TEST_ENV, "PULUMI_BACKEND_URL": backend}
    workspace = engine.StackWorkspace("hastack", "dev", tmp_path, backend)
    exported = pulumi_cli(env, "stack", "export", "--stack", "dev", cwd=workspace.folder)
    assert exported.returncode == 0, exported.stderr
    original = json.loads(exported.stdout)["deployment"]["resources"]
    assert len(original) > 27
    assert '"ciphertext"' in exported.stdout, "secrets stay encrypted in the export"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HASTACK_WORKDIR", str(tmp_path))
    client = state_backup.s3_client(s3_endpoint)
    state_backup.create_bucket(client, "backups")
    args = ["--program", str(REPO_ROOT), "--bucket", "backups", "--endpoint", s3_endpoint, "--stack", "dev"]
    monkeypatch.chdir(workspace.folder)
    assert state_backup.main(["backup", *args]) == 0
    (first,) = state_backup.versions(client, "backups", "hastack", "dev")
    body = state_backup.download(client, "backups", "hastack", "dev")
    assert json.loads(body)["deployment"]["resources"] == original
    # destroy, back up the empty state, then restore the first version
    assert engine.run("destroy", REPO_ROOT, "dev", "render", workdir=tmp_path) == 0
    assert state_backup.main(["backup", *args]) == 0
    assert state_backup.main(["restore", *args, "--version", first["VersionId"]]) == 0
    restored = json.loads(pulumi_cli(env, "stack", "export", "--stack", "dev", cwd=workspace.folder).stdout)
    assert [r["urn"] for r in restored["deployment"]["resources"]] == [r["urn"] for r in original]


def set_stack_secret(
    engine_env: dict[str, str], tmp_path: Path, name: str, path: tuple[int, str, str], value: str
) -> tuple[Path, engine.StackWorkspace, dict[str, str]]:
    """A copy of the dev program whose stack file holds `value` as a `secure:` leaf at
    hastack:apps[i].<key>.<var>, set the documented way (`make secret`: engine.set_secret); the
    workspace returned is the render stack's, where `engine.run(..., "render")` deploys."""
    program, _ = engine.program_copy(tmp_path, "dev", name)
    index, key, var = path
    engine.set_secret(program, "dev", f"apps[{index}].{key}.{var}", value, workdir=tmp_path)
    backend = f"file://{tmp_path / 'render-state'}"
    workspace = engine.StackWorkspace("hastack", "dev", tmp_path, backend)
    return program, workspace, {**engine_env, "PULUMI_BACKEND_URL": backend}


def test_a_stack_secret_reaches_only_the_secret_through_the_real_engine(
    engine_env: dict[str, str], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A `secure:` leaf deep in hastack:apps: the engine decrypts it and marks the whole key secret
    (what hastack.config relies on); the value lands in the api Secret and nowhere else."""
    value = "engine-" + "stack-secret-7f3a"
    program, workspace, env = set_stack_secret(engine_env, tmp_path, "sec", (1, "secretEnv", "DB_URL"), value)
    # the CLI's ciphertext decrypts offline too: the gate judges the stack instead of refusing it
    assert gate.main(["--program", str(program), "--stack", "dev", "--quiet"]) == 0

    assert engine.run("up", program, "dev", "render", workdir=tmp_path) == 0
    output = capfd.readouterr().out
    rendered = {p.name: p.read_text() for p in workspace.render_dir.rglob("*.yaml")}
    api_secrets = [
        d
        for text in rendered.values()
        for d in yaml.safe_load_all(text)
        if d and d["kind"] == "Secret" and d["metadata"]["labels"].get("app.kubernetes.io/name") == "api"
    ]
    assert [sorted(d.get("data") or d.get("stringData")) for d in api_secrets] == [
        ["DATABASE_URL", "DB_PASSWORD", "DB_URL", "JWT_SIGNING_KEY"]
    ]
    exported = pulumi_cli(env, "stack", "export", "--stack", "dev", cwd=workspace.folder)
    for text in (output, exported.stdout, *rendered.values()):
        assert value not in text


def test_a_stack_secret_in_plain_env_is_refused_through_the_real_engine(
    engine_env: dict[str, str], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """`make secret` refuses a secret outside secretEnv and leaves the file as it was; a `secure:` leaf
    moved there by hand reaches the engine, which decrypts every leaf and marks all of hastack:apps
    secret, so only the stack file tells that apps[0].env.API_TOKEN was `secure:`: refused by path,
    never shown, nothing deployed."""
    value = "engine-" + "plain-env-secret-91c2"
    program, _ = engine.program_copy(tmp_path, "dev", "plain")
    stack_file = program / "Pulumi.dev.yaml"
    before = stack_file.read_text()
    with pytest.raises(engine.EngineError, match=r"apps\[0\]\.env\.API_TOKEN: is a secure value") as refused:
        engine.set_secret(program, "dev", "apps[0].env.API_TOKEN", value, workdir=tmp_path)
    assert value not in str(refused.value)
    assert stack_file.read_text() == before
    engine.set_secret(program, "dev", "apps[0].secretEnv.API_TOKEN", value, workdir=tmp_path)
    edited = yaml.safe_load(stack_file.read_text())
    web = edited["config"]["hastack:apps"][0]
    web.setdefault("env", {})["API_TOKEN"] = web.pop("secretEnv")["API_TOKEN"]
    stack_file.write_text(yaml.safe_dump(edited, sort_keys=False))
    workspace = engine.StackWorkspace("hastack", "dev", tmp_path, f"file://{tmp_path / 'render-state'}")
    assert engine.run("up", program, "dev", "render", workdir=tmp_path) != 0
    output = capfd.readouterr()
    assert "hastack:apps[0].env.API_TOKEN: is a secure value; stack secrets go under secretEnv" in output.out
    assert value not in output.out + output.err
    assert not workspace.render_dir.exists() or not list(workspace.render_dir.rglob("*.yaml"))
