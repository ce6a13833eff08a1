"""`make backup` / `make restore`: stack state to and from a versioned, encrypted S3 bucket.

The export is `pulumi stack export` (secrets stay encrypted by the stack's secrets provider). The
bucket must already have versioning on, so every backup is kept and any can be restored; objects
are written with server-side encryption. A restore checks the backup belongs to the same project
and stack before `pulumi stack import`, so one environment's state never lands on another; into a
backend that lost the stack (recreated empty), it first creates the stack with the salt the backup
was written with, so its secrets and the stack file's `secure:` values decrypt again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import yaml

from hastack_tools.ops.stacks import (
    EngineError,
    StackWorkspace,
    cli,
    cli_error,
    prepare_stack,
    read_yaml,
    salt_of_state,
    stack_exists,
    write_generated,
)

DEFAULT_BUCKET = "hastack-state-backups"
ENCRYPTION = "AES256"


class BackupError(RuntimeError):
    """A backup or restore that cannot proceed; the message says what to do."""


@dataclass(frozen=True)
class Backup:
    key: str
    version_id: str
    sha256: str


def object_key(project: str, stack: str) -> str:
    return f"{project}/{stack}/stack-export.json"


def s3_client(endpoint: str | None) -> Any:
    """A client for AWS or an S3-compatible endpoint (path-style, as moto and MinIO expect)."""
    config = botocore.config.Config(
        s3={"addressing_style": "path"}, retries={"max_attempts": 2}, connect_timeout=5, read_timeout=30
    )
    # A session of its own: credentials are read now, not cached from an earlier client.
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, config=config, region_name=os.environ.get("AWS_REGION", "us-east-1")
    )


def stack_identity(export: dict[str, Any]) -> tuple[str, str] | None:
    """(project, stack) read from the root Stack resource's URN of a `pulumi stack export`."""
    for resource in export.get("deployment", {}).get("resources") or []:
        urn = str(resource.get("urn", ""))
        if resource.get("type") == "pulumi:pulumi:Stack" and urn.startswith("urn:pulumi:"):
            stack, project = urn.removeprefix("urn:pulumi:").split("::")[:2]
            return project, stack.rsplit("/", 1)[-1]
    return None


def _check_bucket(client: Any, bucket: str) -> None:
    try:
        versioning = client.get_bucket_versioning(Bucket=bucket)
    except botocore.exceptions.EndpointConnectionError as error:
        raise BackupError(f"S3 endpoint unreachable for bucket {bucket}: {error}") from None
    except botocore.exceptions.NoCredentialsError:
        raise BackupError(
            f"no S3 credentials for bucket {bucket}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(or AWS_PROFILE)"
        ) from None
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in {"NoSuchBucket", "404"}:
            raise BackupError(
                f"bucket {bucket} does not exist; create it with versioning and default encryption "
                f"(python -m hastack_tools.ops.state_backup create-bucket --bucket {bucket})"
            ) from None
        raise BackupError(f"bucket {bucket}: {code or error}") from None
    if versioning.get("Status") != "Enabled":
        raise BackupError(f"bucket {bucket} has no versioning; enable it so older backups stay restorable")


def create_bucket(client: Any, bucket: str) -> None:
    """Creates the backup bucket with versioning and default server-side encryption."""
    client.create_bucket(Bucket=bucket)
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    client.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": ENCRYPTION}}]
        },
    )


def upload(client: Any, bucket: str, export: bytes, project: str, stack: str) -> Backup:
    """Stores one export as a new version of the stack's object."""
    _check_bucket(client, bucket)
    parsed = json.loads(export)
    identity = stack_identity(parsed)
    if identity is not None and identity != (project, stack):
        raise BackupError(f"export is of {identity[0]}/{identity[1]}, not {project}/{stack}")
    digest = hashlib.sha256(export).hexdigest()
    key = object_key(project, stack)
    response = client.put_object(
        Bucket=bucket,
        Key=key,
        Body=export,
        ServerSideEncryption=ENCRYPTION,
        ContentType="application/json",
        Metadata={
            "project": project,
            "stack": stack,
            "sha256": digest,
            "exported-at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
    return Backup(key, str(response.get("VersionId", "")), digest)


def versions(client: Any, bucket: str, project: str, stack: str) -> list[dict[str, Any]]:
    """The stored backups of a stack, newest first."""
    _check_bucket(client, bucket)
    key = object_key(project, stack)
    listed = client.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
    found = [v for v in listed if v["Key"] == key]
    return sorted(found, key=lambda v: v["LastModified"], reverse=True)


def download(client: Any, bucket: str, project: str, stack: str, version_id: str | None = None) -> bytes:
    """One backup of this project and stack; refuses anything recorded for another."""
    _check_bucket(client, bucket)
    request: dict[str, Any] = {"Bucket": bucket, "Key": object_key(project, stack)}
    if version_id:
        request["VersionId"] = version_id
    try:
        response = client.get_object(**request)
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        what = f"version {version_id} of " if version_id else ""
        raise BackupError(f"no backup {what}{project}/{stack} in bucket {bucket} ({code})") from None
    body: bytes = response["Body"].read()
    metadata = response.get("Metadata", {})
    if (metadata.get("project"), metadata.get("stack")) != (project, stack):
        raise BackupError(
            f"backup is recorded for {metadata.get('project')}/{metadata.get('stack')}, not {project}/{stack}"
        )
    if metadata.get("sha256") and hashlib.sha256(body).hexdigest() != metadata["sha256"]:
        raise BackupError("backup content does not match its recorded sha256")
    identity = stack_identity(json.loads(body))
    if identity is not None and identity != (project, stack):
        raise BackupError(f"backup contains state of {identity[0]}/{identity[1]}, not {project}/{stack}")
    return body


def project_name(program: Path) -> str:
    return str(yaml.safe_load((program / "Pulumi.yaml").read_text())["name"])


def _pulumi(args: list[str], cwd: Path) -> bytes:
    try:
        return subprocess.run(["pulumi", *args], cwd=cwd, check=True, capture_output=True).stdout
    except FileNotFoundError:
        raise BackupError(
            "pulumi CLI not found on PATH (make toolchain, then source toolchain/env.sh)"
        ) from None
    except subprocess.CalledProcessError as error:
        raise BackupError(f"pulumi {' '.join(args)} failed: {error.stderr.decode().strip()}") from None


def workspace_of(program: Path, stack: str) -> StackWorkspace:
    """The engine's workspace of the stack in the current backend (where its generated config is)."""
    cache = Path(
        os.environ.get("HASTACK_WORKDIR")
        or os.environ.get("HASTACK_CACHE")
        or Path.home() / ".cache" / "hastack"
    )
    backend = os.environ.get("PULUMI_BACKEND_URL") or f"file://{cache / 'state'}"
    return StackWorkspace(project_name(program), stack, cache, backend)


def import_state(program: Path, workspace: StackWorkspace, body: bytes) -> bool:
    """`pulumi stack import` of `body`; creates the stack first when the backend lacks it, with the
    backup's own salt. Returns whether it created the stack."""
    env = dict(os.environ)
    created = False
    try:
        workspace.folder.mkdir(parents=True, exist_ok=True)
        (workspace.folder / "Pulumi.yaml").write_text((program / "Pulumi.yaml").read_text())
        try:
            exists = stack_exists(workspace, env)
        except EngineError:  # the backend cannot read the stack's checkpoint: the import replaces it
            exists = True
        if not exists:
            salt = salt_of_state(json.loads(body))
            source = program / f"Pulumi.{workspace.stack}.yaml"
            stack_file = read_yaml(source) if source.exists() else {}
            write_generated(workspace, source, stack_file, {}, {"encryptionsalt": salt} if salt else {})
            done = cli(
                ["stack", "init", workspace.stack, "--secrets-provider", "passphrase"], env, workspace.folder
            )
            if done.returncode != 0:
                raise BackupError(f"pulumi stack init {workspace.stack} failed: {cli_error(done)}")
            created = True
        with tempfile.NamedTemporaryFile(suffix=".json") as handle:
            handle.write(body)
            handle.flush()
            _pulumi(["stack", "import", "--stack", workspace.stack, "--file", handle.name], workspace.folder)
        prepare_stack(program, workspace, env, {})  # the generated config again, with the salt
    except EngineError as error:
        raise BackupError(str(error)) from None
    return created


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["backup", "restore", "list", "create-bucket"])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--program", type=Path, default=Path("."))
    parser.add_argument("--bucket", default=os.environ.get("HASTACK_BACKUP_BUCKET", DEFAULT_BUCKET))
    parser.add_argument("--endpoint", default=os.environ.get("HASTACK_BACKUP_ENDPOINT"))
    parser.add_argument("--version", help="restore this object version (default: the newest)")
    args = parser.parse_args(argv)
    client = s3_client(args.endpoint)
    try:
        if args.action == "create-bucket":
            create_bucket(client, args.bucket)
            print(f"created s3://{args.bucket} with versioning and {ENCRYPTION} encryption")
            return 0
        project = project_name(args.program)
        workspace = workspace_of(args.program, args.stack)
        if args.action == "backup":
            workspace.folder.mkdir(parents=True, exist_ok=True)
            (workspace.folder / "Pulumi.yaml").write_text((args.program / "Pulumi.yaml").read_text())
            export = _pulumi(["stack", "export", "--stack", args.stack], workspace.folder)
            backup = upload(client, args.bucket, export, project, args.stack)
            print(
                f"backed up {project}/{args.stack} to s3://{args.bucket}/{backup.key} "
                f"version {backup.version_id}"
            )
        elif args.action == "list":
            for version in versions(client, args.bucket, project, args.stack):
                print(
                    f"{version['VersionId']}  {version['LastModified']:%Y-%m-%d %H:%M:%S}  "
                    f"{version['Size']} bytes"
                )
        else:
            body = download(client, args.bucket, project, args.stack, args.version)
            created = import_state(args.program.resolve(), workspace, body)
            print(
                f"restored {project}/{args.stack} from s3://{args.bucket} version {args.version or 'latest'}"
                + (" (the backend had no such stack: created it with the backup's salt)" if created else "")
            )
    except BackupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
