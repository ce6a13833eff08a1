"""The pieces of benchmarks/engine_scale.py that need no engine: arguments, /proc and rusage parsing,
process roles, sampling, medians, and the generated stack with its floor manifests."""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import engine_scale
from benchmarks.engine_scale import Step
from hastack_tools.ops.engine import EngineError


def test_sizes_and_pulumi_args() -> None:
    args = engine_scale.parse_args(["--apps", "10, 50,100", "--repeat", "2", "--", "--parallel", "64"])
    assert args.apps == [10, 50, 100]
    assert args.repeat == 2
    assert args.pulumi_args == ["--parallel", "64"]


@pytest.mark.parametrize("bad", ["10,x", "0", "10,,20", "-5"])
def test_bad_sizes_name_the_item(bad: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"--apps: '.*' is not a positive app count"):
        engine_scale.parse_sizes(bad)


def test_repeat_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        engine_scale.parse_args(["--repeat", "0"])
    assert "--repeat must be at least 1" in capsys.readouterr().err


def test_stat_line_with_parentheses_in_the_command_name() -> None:
    ticks = engine_scale.CLOCK_TICKS
    # fields 3..22 after the name: state, ppid, pgrp, session, tty, tpgid, flags, minflt, cminflt,
    # majflt, cmajflt, utime (14), stime (15), cutime, cstime, priority, nice, threads, itrealvalue,
    # starttime (22)
    rest = ["S", "1", "1", "1", "0", "-1", "0", "5", "0", "0", "0", str(3 * ticks), str(ticks)]
    rest += ["7", "7", "20", "0", "4", "0", "98765", "123456"]
    cpu, start = engine_scale.parse_stat("4242 (a b) c)) " + " ".join(rest))
    assert cpu == pytest.approx(4.0)
    assert start == 98765


def test_high_water_and_rusage() -> None:
    status = "Name:\tpulumi\nVmPeak:\t  900000 kB\nVmHWM:\t  153600 kB\nVmRSS:\t  100 kB\n"
    assert engine_scale.parse_high_water_kib(status) == 153600
    assert engine_scale.parse_high_water_kib("Name:\tzombie\n") == 0
    usage = resource.struct_rusage((1.5, 0.25, *([0] * 14)))
    assert engine_scale.rusage_cpu_s(usage) == pytest.approx(1.75)


@pytest.mark.parametrize(
    ("argv", "role"),
    [
        (["pulumi", "up", "--stack", "bench"], "pulumi CLI"),
        (["/c/bin/pulumi-language-python", "127.0.0.1:1"], "language host"),
        (
            ["/c/plugins/resource-kubernetes-v4.25.0/pulumi-resource-kubernetes", "127.0.0.1:1"],
            "kubernetes provider",
        ),
        (["/p/.venv/bin/python", "-u", "/c/bin/pulumi-language-python-exec", "--monitor", "x"], "program"),
        (["/r/.venv/bin/python", "-u", "-m", "pulumi.policy", "127.0.0.1:1", "/r/policy"], "policy pack"),
        (
            ["/r/.venv/bin/python", "-m", "hastack_tools.standins.local_providers", "random"],
            "local providers",
        ),
        (["/p/.venv/bin/python", "-c", "import platform"], "language host"),
        (["/k/bin/kubectl", "apply", "--server-side"], "kubectl"),
        (["bash", "cluster/up.sh"], "other"),
        ([], "other"),
    ],
)
def test_roles(argv: list[str], role: str) -> None:
    assert engine_scale.role_of(argv) == role


def test_measure_samples_a_child_process_peak_and_cpu() -> None:
    """A child that holds 64 MiB for a moment: the sampler sees its peak, rusage its CPU."""
    script = (
        "import time; b = bytearray(64 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); time.sleep(0.6)"
    )

    def action() -> int:
        return subprocess.run(
            ["bash", "-c", f'exec "{sys.executable}" -c "{script}"'], check=False
        ).returncode

    step = engine_scale.measure("child", action, {})
    assert step.wall_s >= 0.6
    assert step.roles["language host"]["processes"] == 1  # a bare `python -c`, as the host's probes
    assert step.roles["language host"]["peak_mib"] >= 64
    assert step.peak_mib >= 64
    assert step.cpu_s > 0


def test_measure_raises_on_failure() -> None:
    with pytest.raises(EngineError, match="broken failed with exit code 3"):
        engine_scale.measure("broken", lambda: 3, {})


def test_medians_and_peaks() -> None:
    def step(wall: float, cpu: float, peak: float) -> Step:
        roles = {"pulumi CLI": {"cpu_s": cpu, "peak_mib": peak}}
        return Step("up", wall, cpu, roles, {"kube-apiserver": wall / 10})

    summary = engine_scale.median_summary([step(30, 10, 150), step(10, 2, 400), step(20, 6, 100)])
    assert summary["wall_s"] == 20
    assert summary["cpu_s"] == 6
    assert summary["peak_mib"] == 400  # the largest, never a median
    assert summary["roles"]["pulumi CLI"] == {"cpu_s": 6, "peak_mib": 400}
    assert summary["cluster_cpu_s"]["kube-apiserver"] == 2
    assert summary["runs_wall_s"] == [30, 10, 20]


def test_generated_stack_and_its_floor_manifests(tmp_path: Path) -> None:
    config = engine_scale.stack_file(3, "bench-t")["config"]
    assert config["hastack:namespace"] == "bench-t"
    assert config["hastack:environment"] == "prod"
    assert [app["name"] for app in config["hastack:apps"]] == ["app0", "app1", "app2"]
    program = engine_scale.write_program(tmp_path, 3, "bench-t")
    assert engine_scale.stack_file_namespace(program) == "bench-t"
    manifests = engine_scale.floor_manifests(program)
    assert manifests[0]["kind"] == "Namespace" and manifests[0]["metadata"]["name"] == "bench-t"
    deployments = [m for m in manifests if m["kind"] == "Deployment"]
    assert len(deployments) == 3
    assert {m["metadata"]["namespace"] for m in manifests[1:]} == {"bench-t"}
    secrets = [m for m in manifests if m["kind"] == "Secret"]
    assert len(secrets) == 3 and all(s["stringData"] == {"TOKEN": "<redacted>"} for s in secrets)
