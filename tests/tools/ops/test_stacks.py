"""A stack's workspace, its one salt and its recovery helpers, without the engine."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from hastack_tools.ops import kubeapi, recovery
from hastack_tools.ops.engine import add_salt, redact_rendered_secrets
from hastack_tools.ops.stacks import (
    EngineError,
    StackWorkspace,
    backend_key,
    known_salt,
    read_yaml,
    salt_of_state,
    stack_exists,
)


def test_workspaces_of_two_backends_never_share_a_folder(tmp_path: Path) -> None:
    """Switching PULUMI_BACKEND_URL used to overwrite the other backend's salt."""
    first = StackWorkspace("hastack", "dev", tmp_path, "file:///a")
    second = StackWorkspace("hastack", "dev", tmp_path, "s3://bucket?endpoint=x")
    assert first.folder != second.folder
    assert backend_key("s3://bucket?endpoint=x").startswith("s3-")
    assert first.render_dir == second.render_dir == tmp_path / "render" / "hastack" / "dev"


def test_invalid_yaml_names_the_file_and_the_line(tmp_path: Path) -> None:
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text("config:\n  hastack:apps:\n    - name: web\n   image: [\n")
    with pytest.raises(EngineError, match=rf"{stack_file}, line \d+ column \d+: not valid YAML"):
        read_yaml(stack_file)
    stack_file.write_text("- a list\n")
    with pytest.raises(EngineError, match="a stack file is a mapping"):
        read_yaml(stack_file)


def test_the_repo_stack_files_salt_comes_first(tmp_path: Path) -> None:
    workspace = StackWorkspace("hastack", "dev", tmp_path / "cache", "file:///x")
    workspace.folder.mkdir(parents=True)
    source = tmp_path / "Pulumi.dev.yaml"
    source.write_text("config: {}\n")
    assert known_salt(source, workspace) is None
    workspace.config_file.write_text("encryptionsalt: v1:generated\nconfig: {}\n")
    assert known_salt(source, workspace) == "v1:generated"
    add_salt(source, "v1:repo")
    assert known_salt(source, workspace) == "v1:repo"


def test_add_salt_keeps_the_files_comments(tmp_path: Path) -> None:
    source = tmp_path / "Pulumi.dev.yaml"
    source.write_text("# dev: two replicas\nconfig:\n  hastack:namespace: x  # inline\n")
    add_salt(source, "v1:abc")
    assert (
        source.read_text()
        == "# dev: two replicas\nencryptionsalt: v1:abc\nconfig:\n  hastack:namespace: x  # inline\n"
    )


def test_the_salt_of_a_state_export() -> None:
    state = {"deployment": {"secrets_providers": {"type": "passphrase", "state": {"salt": "v1:s"}}}}
    assert salt_of_state(state) == "v1:s"
    assert salt_of_state({"deployment": {"secrets_providers": {"type": "awskms", "state": {}}}}) is None
    assert salt_of_state({}) is None


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (
            {
                "type": "kubernetes:apps/v1:Deployment",
                "inputs": {"metadata": {"name": "web-1", "namespace": "s"}},
            },
            "s/web-1",
        ),
        ({"type": "kubernetes:core/v1:Namespace", "inputs": {"metadata": {"name": "s"}}}, "s"),
        ({"type": "kubernetes:core/v1:ConfigMap", "inputs": {"metadata": {"name": "c"}}}, "default/c"),
        ({"type": "random:index/randomPassword:RandomPassword", "inputs": {"length": 32}}, None),
        ({"type": "kubernetes:apps/v1:Deployment", "inputs": {}}, None),
        ({"type": "kubernetes:yaml/v2:ConfigGroup", "inputs": {"metadata": {"name": "x"}}}, "default/x"),
    ],
)
def test_the_id_a_pending_create_would_have_had(resource: dict[str, object], expected: str | None) -> None:
    assert recovery.kubernetes_id(resource) == expected


def test_a_lock_is_stale_only_when_its_owner_is_provably_dead(tmp_path: Path) -> None:
    locks = tmp_path / ".pulumi" / "locks" / "organization" / "hastack" / "dev"
    locks.mkdir(parents=True)
    here = socket.gethostname()
    (locks / "a.json").write_text(
        json.dumps({"pid": 2**22 + 7, "hostname": here, "username": "u", "timestamp": "t"})
    )
    (locks / "b.json").write_text(
        json.dumps({"pid": 1, "hostname": "elsewhere", "username": "v", "timestamp": "t"})
    )
    found = {
        Path(lock.path).name: lock for lock in recovery.backend_locks(f"file://{tmp_path}", "hastack", "dev")
    }
    assert found["a.json"].owner_dead(), "this host, no such pid"
    assert not found["b.json"].owner_dead(), "another host: cannot be checked from here"
    assert recovery.backend_locks("https://api.pulumi.com", "hastack", "dev") == []


def test_redaction_covers_what_a_killed_run_left(tmp_path: Path) -> None:
    (tmp_path / "1-manifest").mkdir()
    secret = tmp_path / "1-manifest" / "v1-secret-s.yaml"
    secret.write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {K: c2VjcmV0}\nstringData: {P: plain}\n"
    )
    assert redact_rendered_secrets(tmp_path) == 1
    assert "c2VjcmV0" not in secret.read_text() and "plain" not in secret.read_text()
    assert secret.stat().st_mode & 0o777 == 0o600
    assert redact_rendered_secrets(tmp_path) == 0, "already redacted: left alone"


def test_a_kubeconfig_that_points_at_nothing_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "config"
    with pytest.raises(
        kubeapi.KubeconfigError, match=f"KUBECONFIG points at {missing}, which does not exist"
    ):
        kubeapi.KubeAPI.from_kubeconfig(missing)
    bad = tmp_path / "config"
    bad.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n"
    )
    with pytest.raises(kubeapi.KubeconfigError, match="context c names cluster 'k', not defined"):
        kubeapi.KubeAPI.from_kubeconfig(bad)


def test_an_api_server_that_does_not_answer_is_unreachable_within_the_timeout(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = tmp_path / "config"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: k, cluster: {{server: 'https://127.0.0.1:{port}', "
        "insecure-skip-tls-verify: true}}]\n"
        "contexts: [{name: c, context: {cluster: k, user: u}}]\nusers: [{name: u, user: {token: t}}]\n"
    )
    api = kubeapi.KubeAPI.from_kubeconfig(config)
    with pytest.raises(
        kubeapi.UnreachableError, match=rf"the API server https://127.0.0.1:{port} does not answer"
    ):
        api.ready(timeout_s=1.0)


def fake_pulumi(folder: Path, script: str) -> dict[str, str]:
    """A `pulumi` on PATH that runs `script` (bash), for the CLI calls of stacks.py."""
    folder.mkdir(parents=True, exist_ok=True)
    cli = folder / "pulumi"
    cli.write_text("#!/bin/bash\n" + script)
    cli.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}:{os.environ['PATH']}"}


def test_a_stack_list_that_fails_once_is_asked_again_and_one_that_keeps_failing_is_an_error(
    tmp_path: Path,
) -> None:
    workspace = StackWorkspace("p", "dev", tmp_path, "file:///x")
    workspace.folder.mkdir(parents=True)
    count = tmp_path / "calls"
    flaky = f'echo x >> {count}; [ $(wc -l < {count}) -ge 2 ] || {{ echo "error: EOF" >&2; exit 1; }}\n'
    env = fake_pulumi(tmp_path / "flaky", flaky + 'echo \'[{"name": "dev"}]\'\n')
    assert stack_exists(workspace, env)  # a busy file backend's EOF, then the answer
    broken = fake_pulumi(tmp_path / "broken", 'echo "error: EOF" >&2; exit 1\n')
    with pytest.raises(EngineError, match="cannot list its stacks: error: EOF"):
        stack_exists(workspace, broken)


def test_the_state_is_read_from_a_file_backends_checkpoint_else_exported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hastack_tools.ops import stacks

    exported: list[str] = []

    def export_state(workspace: StackWorkspace, env: object) -> dict[str, str]:
        exported.append(workspace.stack)
        return {"deployment": "cli"}

    monkeypatch.setattr(stacks, "export_state", export_state)
    workspace = StackWorkspace("shop", "dev", tmp_path / "cache", f"file://{tmp_path / 'state'}")
    assert stacks.read_state(workspace, {}) == {"deployment": "cli"}  # no checkpoint yet: the CLI
    checkpoint = tmp_path / "state" / ".pulumi" / "stacks" / "shop" / "dev.json"
    checkpoint.parent.mkdir(parents=True)
    latest = {"manifest": {}, "resources": [{"urn": "urn:pulumi:dev::shop::pulumi:pulumi:Stack::shop-dev"}]}
    checkpoint.write_text(json.dumps({"version": 3, "checkpoint": {"stack": "dev", "latest": latest}}))
    assert stacks.read_state(workspace, {}) == {"version": 3, "deployment": latest}
    checkpoint.write_text('{"version": 3, "checkp')  # cut short: the CLI answers instead
    assert stacks.read_state(workspace, {}) == {"deployment": "cli"}
    elsewhere = StackWorkspace("shop", "dev", tmp_path / "cache", "s3://bucket")
    assert stacks.read_state(elsewhere, {}) == {"deployment": "cli"}
    assert exported == ["dev", "dev", "dev"]
