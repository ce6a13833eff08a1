"""`make doctor`: prerequisites found or missing, and the plan `make up` would follow."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from hastack_tools.ops import doctor
from tests.prerequisites import require_go


def test_version_tuple_reads_the_usual_spellings() -> None:
    assert doctor.version_tuple("go1.26.8") == (1, 26, 8)
    assert doctor.version_tuple("v20.20.2") == (20, 20, 2)
    assert doctor.version_tuple("go 1.24") == (1, 24)
    assert doctor.version_tuple("none") == ()


def test_required_go_is_the_highest_go_directive(tmp_path: Path) -> None:
    for folder, line in (
        ("toolchain/a", "go 1.24.7"),
        ("toolchain/b", "go 1.26.6"),
        ("cluster/wrapper", "go 1.25"),
    ):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "go.mod").write_text(f"module x\n\n{line}\n")
    assert doctor.required_go(tmp_path) == (1, 26, 6)


def test_the_repo_needs_the_go_its_wrapper_modules_name() -> None:
    assert doctor.required_go() >= (1, 26)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "HASTACK_CACHE": str(tmp_path / "cache"), **extra}


def test_no_go_blocks_make_up(tmp_path: Path) -> None:
    env = _env(tmp_path, PATH=str(tmp_path))  # nothing on PATH
    report = doctor.diagnose(env)
    go = next(c for c in report.checks if c.name == "go")
    assert not go.ok
    assert "not on PATH" in go.found
    assert report.blocked
    assert "cannot succeed" in doctor.render(report)


def test_an_empty_cache_plans_both_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_go("the doctor's build plan")
    monkeypatch.setattr(doctor, "free_bytes", lambda _path: 100 * 2**30)  # not this machine's disk
    env = _env(tmp_path)
    env.pop("KUBECONFIG", None)
    report = doctor.diagnose(env, stack="prod")
    assert not report.blocked
    plan = "\n".join(report.plan)
    assert "build the Pulumi toolchain" in plan
    assert "build the local control plane" in plan
    assert "start the local control plane" in plan
    assert report.plan[-1].startswith("`pulumi up` of the prod stack")
    assert "min" in report.plan[0]


def test_too_little_disk_for_the_build_still_to_do_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_go("the doctor's disk check")
    monkeypatch.setattr(doctor, "free_bytes", lambda _path: 2**30)
    report = doctor.diagnose(_env(tmp_path), stack="prod")
    disk = next(c for c in report.checks if c.name == "disk")
    assert not disk.ok and disk.blocking
    assert "1.0 GiB free" in disk.found and "the build still to do needs about" in disk.found
    assert report.blocked


def test_warm_go_caches_need_only_the_hastack_cache() -> None:
    cold = doctor.build_space_gib(warm_gocache=False, module_cache_present=False)
    warm = doctor.build_space_gib(warm_gocache=True, module_cache_present=True)
    assert cold == sum(doctor.BUILD_SPACE_GIB.values())
    assert warm == doctor.BUILD_SPACE_GIB["hastack-cache"] + doctor.BUILD_SPACE_GIB["margin"]
    assert doctor.build_space_gib(warm_gocache=True, module_cache_present=False) == warm + 3.0


def test_a_kubeconfig_replaces_the_local_control_plane(tmp_path: Path) -> None:
    require_go("the doctor's build plan")
    report = doctor.diagnose(_env(tmp_path, KUBECONFIG="/tmp/kc"))
    plan = "\n".join(report.plan)
    assert "KUBECONFIG=/tmp/kc" in plan
    assert "control plane" not in plan


def test_main_exits_1_when_blocked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bash").symlink_to(shutil.which("bash") or "/bin/bash")  # bash only: no go
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HASTACK_CACHE", str(tmp_path / "cache"))
    assert doctor.main([]) == 1
    assert "NO  go" in capsys.readouterr().out


def _toolchain_bin(tmp_path: Path, names: tuple[str, ...]) -> dict[str, str]:
    """An environment whose cache holds a toolchain with only `names` built."""
    env = _env(tmp_path)
    cache = env["HASTACK_CACHE"]
    key = doctor.bash_value(
        f"export HASTACK_CACHE={cache}; source toolchain/versions.sh; hastack_toolchain_key toolchain"
    )
    bin_dir = Path(cache) / "toolchain" / key / "bin"
    bin_dir.mkdir(parents=True)
    for name in names:
        (bin_dir / name).write_text("")
    return env


def test_a_toolchain_without_the_yaml_host_plans_only_that_build(tmp_path: Path) -> None:
    require_go("the doctor's build plan")
    env = _toolchain_bin(tmp_path, ("pulumi", "pulumi-language-python", "pulumi-resource-kubernetes"))
    report = doctor.diagnose(env)
    toolchain = next(c for c in report.checks if c.name == "toolchain")
    assert "except pulumi-language-yaml" in toolchain.found
    (step,) = [s for s in report.plan if "toolchain" in s or "YAML" in s]
    assert step.startswith("build the YAML language host")
    assert "min" in step


def test_the_four_toolchain_binaries_need_no_build(tmp_path: Path) -> None:
    require_go("the doctor's build plan")
    report = doctor.diagnose(_toolchain_bin(tmp_path, doctor.TOOLCHAIN_BINARIES))
    assert not [s for s in report.plan if "toolchain" in s or "language host" in s]
    assert next(c for c in report.checks if c.name == "toolchain").found.endswith(": built")


def test_built_binaries_without_the_crds_plan_only_their_fetch(tmp_path: Path) -> None:
    require_go("the doctor's build plan")
    env = _env(tmp_path)
    env.pop("KUBECONFIG", None)
    cluster_bin, crds = doctor.bash_value(
        f"export HASTACK_CACHE={env['HASTACK_CACHE']}; source cluster/versions.sh; "
        "echo $CLUSTER_BIN; echo $CLUSTER_CRDS"
    ).splitlines()
    Path(cluster_bin).mkdir(parents=True)
    for name in doctor.CLUSTER_BINARIES:
        (Path(cluster_bin) / name).write_text("")
    plan = "\n".join(doctor.diagnose(env).plan)
    assert "fetch the upstream CRDs" in plan and "build the local control plane" not in plan
    (Path(crds) / ".complete").parent.mkdir(parents=True)
    (Path(crds) / ".complete").write_text("")
    report = doctor.diagnose(env)
    assert "CRDs" not in "\n".join(report.plan)
    assert "CRDs gateway-api-" in next(c.found for c in report.checks if c.name == "control plane")


def test_a_system_pulumi_and_a_kubeconfig_need_no_build(tmp_path: Path) -> None:
    """Bring your own Pulumi: the plan says which CLI `make up` uses, and builds nothing."""
    require_go("the doctor's build plan")
    own = tmp_path / "official"
    own.mkdir()
    (own / "pulumi").write_text("#!/bin/sh\necho v3.280.0\n")
    (own / "pulumi").chmod(0o755)
    env = _env(tmp_path, KUBECONFIG="/tmp/kc")
    env["PATH"] = f"{own}{os.pathsep}{env['PATH']}"
    plan = "\n".join(doctor.diagnose(env).plan)
    assert f"use the `pulumi` on PATH ({own / 'pulumi'})" in plan and "nothing to build" in plan
    assert "build the Pulumi toolchain" not in plan
    env["TOOLCHAIN"] = "built"
    assert "build the Pulumi toolchain" in "\n".join(doctor.diagnose(env).plan)
