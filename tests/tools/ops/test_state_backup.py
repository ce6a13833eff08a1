"""State backup and restore against an S3 server (moto's, on loopback)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hastack_tools.ops.state_backup import (
    BackupError,
    create_bucket,
    download,
    object_key,
    s3_client,
    stack_identity,
    upload,
    versions,
)
from tests.conftest import free_port


@pytest.fixture
def client(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return s3_client(s3_endpoint)


def export_of(project: str, stack: str, serial: int) -> bytes:
    """The shape `pulumi stack export` writes (version 3), with a marker to tell versions apart."""
    return json.dumps(
        {
            "version": 3,
            "deployment": {
                "manifest": {"time": "2026-11-28T00:00:00Z", "magic": "", "version": "v3.274.1"},
                "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:abc"}},
                "resources": [
                    {
                        "urn": f"urn:pulumi:{stack}::{project}::pulumi:pulumi:Stack::{project}-{stack}",
                        "type": "pulumi:pulumi:Stack",
                        "outputs": {"serial": serial},
                    }
                ],
            },
        }
    ).encode()


def test_round_trip_keeps_every_version_encrypted(client: Any) -> None:
    create_bucket(client, "roundtrip")
    first = upload(client, "roundtrip", export_of("hastack", "dev", 1), "hastack", "dev")
    second = upload(client, "roundtrip", export_of("hastack", "dev", 2), "hastack", "dev")
    assert first.version_id and second.version_id and first.version_id != second.version_id
    assert json.loads(download(client, "roundtrip", "hastack", "dev"))["deployment"]["resources"][0][
        "outputs"
    ] == {"serial": 2}
    older = download(client, "roundtrip", "hastack", "dev", first.version_id)
    assert json.loads(older)["deployment"]["resources"][0]["outputs"] == {"serial": 1}
    assert [v["VersionId"] for v in versions(client, "roundtrip", "hastack", "dev")] == [
        second.version_id,
        first.version_id,
    ]
    head = client.head_object(Bucket="roundtrip", Key=object_key("hastack", "dev"))
    assert head["ServerSideEncryption"] == "AES256"
    assert head["Metadata"]["stack"] == "dev"


def test_backup_of_another_stack_is_refused_on_upload_and_restore(client: Any) -> None:
    create_bucket(client, "guarded")
    with pytest.raises(BackupError, match="export is of hastack/prod, not hastack/dev"):
        upload(client, "guarded", export_of("hastack", "prod", 1), "hastack", "dev")
    # someone copied prod's state over dev's key by hand: the restore still refuses it
    client.put_object(
        Bucket="guarded",
        Key=object_key("hastack", "dev"),
        Body=export_of("hastack", "prod", 1),
        Metadata={"project": "hastack", "stack": "dev"},
    )
    with pytest.raises(BackupError, match="contains state of hastack/prod"):
        download(client, "guarded", "hastack", "dev")
    client.put_object(
        Bucket="guarded",
        Key=object_key("hastack", "dev"),
        Body=export_of("hastack", "dev", 1),
        Metadata={"project": "other", "stack": "dev"},
    )
    with pytest.raises(BackupError, match="recorded for other/dev"):
        download(client, "guarded", "hastack", "dev")


def test_missing_bucket_unversioned_bucket_and_missing_backup(client: Any) -> None:
    with pytest.raises(BackupError, match="bucket nowhere does not exist"):
        upload(client, "nowhere", export_of("hastack", "dev", 1), "hastack", "dev")
    client.create_bucket(Bucket="plain")
    with pytest.raises(BackupError, match="has no versioning"):
        upload(client, "plain", export_of("hastack", "dev", 1), "hastack", "dev")
    create_bucket(client, "empty")
    with pytest.raises(BackupError, match="no backup hastack/dev in bucket empty"):
        download(client, "empty", "hastack", "dev")


def test_unreachable_endpoint_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = s3_client(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(BackupError, match="unreachable"):
        upload(client, "any", export_of("hastack", "dev", 1), "hastack", "dev")


def test_stack_identity_reads_the_root_stack_urn() -> None:
    assert stack_identity(json.loads(export_of("hastack", "prod", 1))) == ("hastack", "prod")
    assert stack_identity({"deployment": {"resources": []}}) is None


def test_missing_credentials_are_a_clear_error(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(BackupError, match="no S3 credentials for bucket any"):
        upload(s3_client(s3_endpoint), "any", export_of("hastack", "dev", 1), "hastack", "dev")
