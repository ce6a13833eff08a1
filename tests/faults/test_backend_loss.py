"""Finding 4: restoring into a recreated, empty backend failed (`no stack named 'dev' found`) and moto,
holding the state in memory, lost all of it when killed mid-update. Finding 9 (part): a corrupted
checkpoint said "already exists". Runbooks: "Backend loss", "Corrupted checkpoint"."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from hastack_tools.ops import state_backup
from tests.conftest import free_port
from tests.e2e.kube import wait_until
from tests.faults.conftest import FIGURES, Deployed, runbook
from tests.faults.test_interrupted import deployments
from tests.integration.conftest import AWS_TEST_ENV


class PersistentS3:
    """moto's S3 server as a process of its own, every request recorded to a file and replayed into a
    restarted server: a state store that can be killed and come back with its data."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.recording = folder / "moto-recording.jsonl"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            **AWS_TEST_ENV,
            "MOTO_ENABLE_RECORDING": "True",
            "MOTO_RECORDER_FILEPATH": str(self.recording),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until("moto to answer", self._answers, timeout=30, interval=0.2)
        replay = self.recording.exists() and self.recording.stat().st_size > 0
        self._post("replay-recording" if replay else "start-recording")
        if replay:
            self._post("start-recording")

    def _answers(self) -> bool:
        try:
            urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=2).close()
        except OSError:
            return False
        return True

    def _post(self, action: str) -> None:
        urllib.request.urlopen(
            urllib.request.Request(f"{self.endpoint}/moto-api/recorder/{action}", method="POST"), timeout=60
        ).close()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def client(self) -> object:
        return boto3.session.Session(
            **{"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
        ).client("s3", endpoint_url=self.endpoint)


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[PersistentS3]:
    store = PersistentS3(tmp_path)
    store.start()
    yield store
    if store.proc and store.proc.poll() is None:
        store.kill()


def s3_backend(store: PersistentS3, bucket: str) -> str:
    return f"s3://{bucket}?endpoint=127.0.0.1:{store.port}&disableSSL=true&s3ForcePathStyle=true&region=us-east-1"


def test_restore_into_a_recreated_empty_backend(deployed: Deployed, s3: PersistentS3) -> None:
    client = s3.client()
    client.create_bucket(Bucket="state")  # type: ignore[attr-defined]
    state_backup.create_bucket(client, "backups")
    deployed.extra_env.update(AWS_TEST_ENV)
    deployed.extra_env.update(
        {
            "PULUMI_BACKEND_URL": s3_backend(s3, "state"),
            "HASTACK_BACKUP_BUCKET": "backups",
            "HASTACK_BACKUP_ENDPOINT": s3.endpoint,
        }
    )
    assert deployed.run("make up STACK=dev").code == 0
    reference = deployed.cluster_objects()
    backed_up = deployed.run("make backup STACK=dev")
    assert backed_up.code == 0, backed_up.output
    # the state bucket is lost and recreated empty
    listed = client.list_objects_v2(Bucket="state").get("Contents", [])  # type: ignore[attr-defined]
    for item in listed:
        client.delete_object(Bucket="state", Key=item["Key"])  # type: ignore[attr-defined]
    assert client.list_objects_v2(Bucket="state").get("KeyCount") == 0  # type: ignore[attr-defined]
    start = time.monotonic()
    for command in runbook("Backend loss (the state bucket is gone or empty)"):
        done = deployed.run(command)
        assert done.code == 0, f"{command}: {done.output}"
        if command.startswith("make restore"):
            assert "the backend had no such stack: created it with the backup's salt" in done.output
    FIGURES["backend_lost"] = {
        "recovery": " && ".join(runbook("Backend loss (the state bucket is gone or empty)")),
        "seconds": round(time.monotonic() - start, 1),
        **deployed.assert_settled(reference),
    }


def up_that_loses_its_store(
    deployed: Deployed, s3: PersistentS3
) -> tuple[Counter[tuple[str, str]], subprocess.Popen[str]]:
    """The stack deployed once (its objects: the reference) and removed; then a `make up` on an S3 state
    store that is killed once the first Deployment exists. Returns the reference and the running up."""
    s3.client().create_bucket(Bucket="state")  # type: ignore[attr-defined]
    deployed.extra_env.update({**AWS_TEST_ENV, "PULUMI_BACKEND_URL": s3_backend(s3, "state")})
    assert deployed.run("make up STACK=dev").code == 0
    reference = deployed.cluster_objects()
    assert deployed.run("make down STACK=dev").code == 0
    running = deployed.start("make up STACK=dev")
    deployed.cli_pid()
    wait_until("the first Deployment", lambda: deployments(deployed) >= 1, timeout=300, interval=0.2)
    s3.kill()
    return reference, running


def test_the_state_store_killed_mid_update_comes_back_with_its_data(
    deployed: Deployed, s3: PersistentS3
) -> None:
    reference, running = up_that_loses_its_store(deployed, s3)
    time.sleep(5)  # the CLI retries its checkpoint writes meanwhile
    s3.start()  # back, with every object it held (replayed)
    running.communicate(timeout=600)
    start = time.monotonic()
    done = deployed.run("make up STACK=dev")
    assert done.code == 0, done.output
    FIGURES["state_store_killed_mid_update"] = {
        "recovery": "make up STACK=dev",
        "first_up_exit": running.returncode,
        "seconds": round(time.monotonic() - start, 1),
        **deployed.assert_settled(reference),
    }


def test_a_state_store_back_with_older_data_than_the_cluster_leaves_no_orphan(
    deployed: Deployed, s3: PersistentS3
) -> None:
    """The store comes back holding the checkpoint of the moment it died, without the writes made
    since (what a replay racing the CLI's retried writes does to the test above now and then, and a
    bucket restored to an older version always does): objects created after that moment, with no
    pending operation naming them, are swept by the next `make up`; a kubectl-made object stays."""
    reference, running = up_that_loses_its_store(deployed, s3)
    when_it_died = s3.recording.read_bytes()
    s3.start()
    running.communicate(timeout=600)
    s3.kill()
    s3.recording.write_bytes(when_it_died)
    s3.start()  # the state of the moment it died: the objects created since are the state's no more
    deployed.faults.cluster.kubectl("create", "configmap", "by-hand", "-n", deployed.namespace)
    start = time.monotonic()
    done = deployed.run("make up STACK=dev")
    assert done.code == 0, done.output
    kept = deployed.faults.cluster.kubectl(
        "get", "configmap", "by-hand", "-n", deployed.namespace, check=False
    )
    assert kept.returncode == 0, f"the sweep removed an object kubectl made: {kept.stderr}"
    deployed.faults.cluster.kubectl("delete", "configmap", "by-hand", "-n", deployed.namespace)
    FIGURES["state_store_back_older_than_cluster"] = {
        "recovery": "make up STACK=dev",
        "first_up_exit": running.returncode,
        "orphans_swept": done.output.count("removed the orphan "),
        "seconds": round(time.monotonic() - start, 1),
        **deployed.assert_settled(reference),
    }
    assert "removed the orphan Ingress" in done.output, done.output  # created after it died


def test_a_corrupted_checkpoint_is_named_and_restored(deployed: Deployed, s3: PersistentS3) -> None:
    client = s3.client()
    state_backup.create_bucket(client, "backups")
    deployed.extra_env.update(
        {**AWS_TEST_ENV, "HASTACK_BACKUP_BUCKET": "backups", "HASTACK_BACKUP_ENDPOINT": s3.endpoint}
    )
    assert deployed.run("make up STACK=dev").code == 0
    reference = deployed.cluster_objects()
    assert deployed.run("make backup STACK=dev").code == 0
    generated = deployed.workspace.config_file.read_text()
    checkpoint = deployed.workdir / "state" / ".pulumi" / "stacks" / "hastack" / "dev.json"
    checkpoint.write_text(checkpoint.read_text()[: len(checkpoint.read_text()) // 2])  # truncated
    refused = deployed.run("make up STACK=dev")
    assert refused.code != 0
    assert "cannot list its stacks" in refused.output and "Corrupted checkpoint" in refused.output, (
        refused.output
    )
    assert deployed.workspace.config_file.read_text() == generated, "nothing deleted on the way"
    start = time.monotonic()
    for command in runbook("Corrupted checkpoint"):
        done = deployed.run(command)
        assert done.code == 0, f"{command}: {done.output}"
    FIGURES["checkpoint_truncated"] = {
        "recovery": " && ".join(runbook("Corrupted checkpoint")),
        "seconds": round(time.monotonic() - start, 1),
        **deployed.assert_settled(reference),
    }
    json.loads(checkpoint.read_text())
