"""Finding 9: invalid YAML in a stack file was a parser traceback without the file name, raised after the
cluster had been started; a KUBECONFIG pointing at nothing switched the target silently and failed
without naming the path."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.ops import engine
from tests.e2e.kube import cluster_vars


def make(program: Path, *words: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO_ROOT), *words, f"PROGRAM={program}"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_invalid_yaml_is_named_with_its_line_before_any_cluster_starts(tmp_path: Path) -> None:
    program, _ = engine.program_copy(tmp_path, "dev", "yaml")
    stack_file = program / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text() + "  hastack:clusterDomain: [cluster.local\n")  # unclosed
    env = {"HASTACK_CLUSTER": "never-started", "HASTACK_WORKDIR": str(tmp_path / "work")}
    run_dir = Path(cluster_vars({**os.environ, **env})["run"])
    try:
        done = make(program, "up", "STACK=dev", "TARGET=local", env=env)
        started = run_dir.exists()
    finally:
        subprocess.run(
            ["bash", str(REPO_ROOT / "cluster" / "down.sh"), "--reset"],
            env={**os.environ, **env},
            check=False,
        )
    assert done.returncode != 0
    assert f"error: {stack_file}, line " in done.stderr and ": not valid YAML:" in done.stderr, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not started, "no control plane was started"


def test_a_kubeconfig_that_points_at_nothing_is_named(tmp_path: Path) -> None:
    program, _ = engine.program_copy(tmp_path, "dev", "kc")
    missing = tmp_path / "nowhere" / "kubeconfig"
    env = {
        "KUBECONFIG": str(missing),
        "PULUMI_CONFIG_PASSPHRASE": "p",
        "HASTACK_WORKDIR": str(tmp_path / "work"),
    }
    done = make(program, "up", "STACK=dev", env=env)  # KUBECONFIG set: the kubeconfig target, said so
    assert done.returncode != 0
    assert "target kubeconfig" in done.stdout
    assert f"error: KUBECONFIG points at {missing}, which does not exist; nothing was deployed" in done.stderr
