"""After `make up` on the local control plane: where each app answers, on loopback, through the ingress.

On real nodes Traefik serves the stack's Ingresses on the node's ports, which cluster/nodes.sh forwards to
127.0.0.1 (the run folder's `ports` file); each host is asked once, so the line says what answered. On
kwok nodes nothing answers, and the line says why real nodes are off.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.ops import loadgen

ANSWER_WAIT_S = 30.0
"""How long a host may take to answer once `up` has finished (Traefik picks up endpoints by watch)."""


def ingress_hosts(stack_config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(app, host) for every Ingress host of the stack file's apps."""
    apps = stack_config.get("hastack:apps") or []
    return [
        (str(app.get("name")), str(host))
        for app in apps
        if isinstance(app, dict) and isinstance(app.get("ingress"), dict)
        for host in app["ingress"].get("hosts") or []
    ]


def nodes_mode(run: Path) -> str:
    """`real` when the control plane of this run folder runs real nodes (cluster/nodes.sh), else `kwok`."""
    mode = run / "nodes-mode"
    return mode.read_text().strip() if mode.exists() else "kwok"


def read_ports(run: Path) -> dict[str, int]:
    text = (run / "ports").read_text() if (run / "ports").exists() else ""
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", text)}


def real_nodes_absent(env: Mapping[str, str]) -> str | None:
    """Why this machine cannot run real nodes (`cluster/nodes.sh check`), or None when it can."""
    try:
        done = subprocess.run(
            ["bash", str(REPO_ROOT / "cluster" / "nodes.sh"), "check"],
            env=dict(env),
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as error:  # no bash on the PATH given
        return f"cannot run cluster/nodes.sh check: {error}"
    return None if done.returncode == 0 else done.stderr.strip().removeprefix("nodes: ")


def https_on_loopback(host: str, port: int) -> loadgen.Target:
    """`host` through the ingress's loopback port: SNI and Host header name it."""
    return loadgen.Target("127.0.0.1", port, None, "https", host_header=host, server_name=host)


def ask(target: loadgen.Target, deadline: float) -> loadgen.Sample:
    """One request, repeated every second until it answers 2xx-3xx or the deadline passes."""
    while True:
        sample = loadgen.send(target, {})
        if sample.ok or time.monotonic() >= deadline:
            return sample
        time.sleep(1)


def announce(
    run: Path, stack_config: Mapping[str, Any], env: Mapping[str, str], say: Callable[[str], None]
) -> list[loadgen.Sample]:
    """One line per Ingress host: its URL, what answered it, and the curl that asks it."""
    hosts = ingress_hosts(stack_config)
    if nodes_mode(run) != "real":
        if hosts:
            why = real_nodes_absent(env) or "HASTACK_NODES=kwok chose them"
            say(f"hastack: kwok nodes: objects only, no container runs, nothing answers ({why})")
        return []
    port = read_ports(run).get("INGRESS_HTTPS_PORT")
    if port is None:
        say(f"hastack: no ingress port recorded in {run / 'ports'}")
        return []
    deadline = time.monotonic() + ANSWER_WAIT_S
    answers = []
    for app, host in hosts:
        sample = ask(https_on_loopback(host, port), deadline)
        answers.append(sample)
        answer = f"{sample.status} from pod {sample.pod}" if sample.status else f"no answer: {sample.error}"
        say(
            f"hastack: {app} answers at https://{host}:{port}/ ({answer}); "
            f"curl -k --resolve {host}:{port}:127.0.0.1 https://{host}:{port}/"
        )
    return answers
