"""`make up` of the committed dev stack on real nodes prints, per Ingress host, a URL on loopback and what
answered it; the URL answers this test too, through Traefik, from one of dev's pods."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.ops import loadgen
from hastack_tools.ops.local_urls import https_on_loopback
from tests.traffic.conftest import TrafficCluster, record


def test_make_up_of_dev_answers_on_the_url_it_prints(traffic_cluster: TrafficCluster, tmp_path: Path) -> None:
    done = subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO_ROOT), "up", "STACK=dev", "TARGET=local"],
        env={**traffic_cluster.env, "HASTACK_WORKDIR": str(tmp_path / "work")},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    try:
        output = done.stdout + done.stderr
        assert done.returncode == 0, output[-6000:]
        printed = re.search(
            r"web answers at https://(shop\.dev\.example\.com):(\d+)/ \(200 from pod (web-\S+)\)", output
        )
        assert printed is not None, output[-3000:]
        host, port = printed.group(1), int(printed.group(2))
        target = https_on_loopback(host, port)
        run = loadgen.load(target, count=20, seconds=30, allowed={})
        record("make_up_dev_url", run, pods=len(run.by_pod()))
        assert run.failed == 0 and all(pod.startswith("web-") for pod in run.by_pod()), run.figures()
        assert len(run.by_pod()) == 2  # dev's two replicas, both behind the URL
    finally:
        traffic_cluster.cluster.kubectl("delete", "namespace", "storefront-dev", "--wait=false", check=False)
