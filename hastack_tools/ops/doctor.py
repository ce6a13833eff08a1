"""`make doctor`: what this machine has, and what `make up` will do next and how long it takes.

A new user learns before waiting half an hour whether the build can succeed here (Go, Python,
disk) and which pieces are cached. Standard library only: it runs before `.venv` exists.
Exit 0 when `make up` can proceed (building what is missing), 1 when a prerequisite is absent.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.ops.local_urls import real_nodes_absent
from hastack_tools.ops.toolchain_choice import choose_toolchain

MIN_PYTHON = (3, 11)
BUILD_SPACE_GIB: dict[str, float] = {
    "go-build-cache": 10.0,
    "go-module-cache": 3.0,
    "hastack-cache": 1.5,
    "margin": 1.5,
}
"""What a build fills, by piece (measured 2026-12-05): only the pieces still missing are needed free."""
WARM_GOCACHE_BYTES = 6 * 2**30
"""A build cache this large has most of the toolchain's and control plane's compiled packages."""

# Durations measured on 2 shared cores, 2026-12-03 (README "Measured"): toolchain 703 s and
# control plane 381 s from empty caches; 61 s and 24 s with an empty module cache but a warm
# Go build cache; higher ends allow for a loaded machine. The YAML language host (a required
# step since issue 10) was not in those runs; its first build took under 4.5 min (the binary's
# time against the previous build's log), so the toolchain ranges add 2 to 5 min cold, 1 warm.
ESTIMATES_MIN: dict[str, tuple[int, int]] = {
    "venv": (1, 3),
    "toolchain-cold": (14, 25),
    "toolchain-warm-gocache": (2, 4),
    "yaml-host-cold": (2, 5),
    "yaml-host-warm-gocache": (0, 1),
    "cluster-cold": (6, 10),
    "cluster-warm-gocache": (1, 2),
    "cluster-start": (0, 1),
    "nodes-cold": (15, 25),
    "nodes-warm-gocache": (2, 4),
    "nodes-start": (1, 2),
    "cluster-crds": (0, 1),
    "up": (0, 1),
}


TOOLCHAIN_BINARIES = (
    "pulumi",
    "pulumi-language-python",
    "pulumi-resource-kubernetes",
    "pulumi-language-yaml",
)
"""What toolchain/build.sh must produce (toolchain/env.sh checks the same four)."""


@dataclass
class Check:
    """One line of the report: what was looked at, what was found, whether it blocks `make up`."""

    name: str
    found: str
    ok: bool = True
    blocking: bool = False


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return any(c.blocking and not c.ok for c in self.checks)


def version_tuple(text: str) -> tuple[int, ...]:
    """'go1.26.8' / 'v20.20.2' / '3.11.7' -> (1, 26, 8); () when no version is in the text."""
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(part) for part in match.groups() if part is not None) if match else ()


def required_go(repo: Path = REPO_ROOT) -> tuple[int, ...]:
    """The highest `go` directive of the wrapper modules the builds use: the Go they need."""
    versions = [
        version_tuple(line)
        for mod in [*sorted((repo / "toolchain").glob("*/go.mod")), repo / "cluster" / "wrapper" / "go.mod"]
        if mod.is_file()
        for line in mod.read_text().splitlines()
        if line.startswith("go ")
    ]
    return max(versions, default=())


def dotted(version: Sequence[int]) -> str:
    return ".".join(map(str, version))


def command_output(args: Sequence[str], env: Mapping[str, str] | None = None) -> str | None:
    """stdout of a short command, or None when it is missing or fails."""
    if shutil.which(args[0]) is None:
        return None
    try:
        done = subprocess.run(
            list(args), capture_output=True, text=True, timeout=60, check=False, env=dict(env or os.environ)
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def bash_value(script: str, repo: Path = REPO_ROOT) -> str:
    """A value computed by the repo's own version files (one source for keys and paths)."""
    done = subprocess.run(["bash", "-c", script], cwd=repo, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def directory_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def estimate(key: str) -> str:
    low, high = ESTIMATES_MIN[key]
    return "< 1 min" if high <= 1 else f"about {low} to {high} min"


def toolchain_step(missing: list[str], cache: Path, warmth: str) -> str:
    """The plan's line for the toolchain: only the YAML host on a cache built before it was required."""
    if missing == ["pulumi-language-yaml"]:
        return f"build the YAML language host into {cache / 'toolchain'} ({estimate('yaml-host-' + warmth)})"
    return (
        "build the Pulumi toolchain (CLI, Python and YAML language hosts, kubernetes provider) "
        f"into {cache / 'toolchain'} ({estimate('toolchain-' + warmth)})"
    )


CLUSTER_BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "etcd", "kwok")
"""What cluster/build.sh must produce."""


@dataclass(frozen=True)
class ControlPlane:
    """The local control plane's pieces in the cache: binaries, upstream CRDs (cluster/crds.sh), state."""

    built: bool
    crds_fetched: bool
    running: bool
    check: Check


def _alive(pid_file: Path) -> bool:
    try:
        return Path(f"/proc/{int(pid_file.read_text())}").exists()
    except (OSError, ValueError):
        return False


def control_plane(cache: Path, repo: Path = REPO_ROOT) -> ControlPlane:
    """Paths from cluster/versions.sh (one source for keys), so the doctor looks where up.sh will."""
    script = (
        f"export HASTACK_CACHE={cache}; source cluster/versions.sh; echo $CLUSTER_BIN; echo $CLUSTER_CRDS"
    )
    bin_dir, crds = (Path(line) for line in bash_value(script, repo).splitlines())
    built = all((bin_dir / b).is_file() for b in CLUSTER_BINARIES)
    fetched = (crds / ".complete").is_file()
    run = bin_dir.parent.parent / "run"
    running = (run / "ready").is_file() and _alive(run / "pids" / "kube-apiserver")  # state outlives a stop
    found = (
        f"{bin_dir}: {'built' if built else 'not built'}"
        + (", running" if running else "")
        + f"; CRDs {crds.name}: {'fetched' if fetched else 'not fetched'}"
    )
    return ControlPlane(built, fetched, running, Check("control plane", found, ok=True))


NODE_BINARIES = (
    "kubelet",
    "kube-proxy",
    "coredns",
    "metrics-server",
    "kube-router",
    "traefik",
    "echo",
    "pause",
)
"""What cluster/build-nodes.sh must produce for real nodes."""


@dataclass(frozen=True)
class RealNodes:
    """Whether this machine can run real nodes (cluster/nodes.sh check) and whether they are built."""

    possible: bool
    built: bool
    check: Check


def real_nodes(env: Mapping[str, str], cache: Path, repo: Path = REPO_ROOT) -> RealNodes:
    script = f"export HASTACK_CACHE={cache}; source cluster/versions.sh; echo $NODES_BIN"
    bin_dir = Path(bash_value(script, repo))
    built = all((bin_dir / b).is_file() for b in NODE_BINARIES)
    why = real_nodes_absent({**env, "HASTACK_CACHE": str(cache)})
    if why is not None:
        found = f"not on this machine: {why}; kwok nodes"
        return RealNodes(False, built, Check("real nodes", found, ok=True))
    found = f"this machine can run them (HASTACK_NODES=auto); {bin_dir}: {'built' if built else 'not built'}"
    return RealNodes(True, built, Check("real nodes", found, ok=True))


def diagnose(env: Mapping[str, str], repo: Path = REPO_ROOT, stack: str = "dev") -> Report:
    report = Report()
    add = report.checks.append

    py = sys.version_info
    add(
        Check(
            "python",
            f"{py.major}.{py.minor}.{py.micro} ({sys.executable}); needs >= {dotted(MIN_PYTHON)}",
            ok=(py.major, py.minor) >= MIN_PYTHON,
            blocking=True,
        )
    )

    need_go = required_go(repo)
    go_text = command_output(["go", "env", "GOVERSION"], env)
    have_go = version_tuple(go_text or "")
    go_ok = bool(have_go) and have_go >= need_go
    add(
        Check(
            "go",
            f"{go_text or 'not on PATH'}; the builds need >= {dotted(need_go)} (the wrapper modules' go.mod)"
            + ("" if go_ok or not have_go else "; or set GOTOOLCHAIN to a newer go the module proxy serves"),
            ok=go_ok,
            blocking=True,
        )
    )

    node = command_output(["node", "--version"], env)
    add(
        Check(
            "node", f"{node or 'not on PATH'} (only `make bench` needs it: cdk8s-plus runs on jsii)", ok=True
        )
    )

    venv = repo / ".venv" / ".installed"
    add(Check("venv", f"{repo / '.venv'}: {'installed' if venv.exists() else 'missing'}", ok=True))

    cache = Path(env.get("HASTACK_CACHE") or Path(env.get("HOME", "~")).expanduser() / ".cache" / "hastack")
    key_script = (
        f"export HASTACK_CACHE={cache}; source toolchain/versions.sh; hastack_toolchain_key toolchain"
    )
    key = bash_value(key_script, repo) if go_text else ""
    toolchain_bin = cache / "toolchain" / key / "bin"
    missing = [b for b in TOOLCHAIN_BINARIES if not (key and (toolchain_bin / b).is_file())]
    state = "built" if not missing else "not built"
    if missing == ["pulumi-language-yaml"]:
        state = "built, except pulumi-language-yaml (added to the toolchain by issue 10)"
    add(Check("toolchain", f"{toolchain_bin if key else cache / 'toolchain'}: {state}", ok=True))

    plane = control_plane(cache, repo)
    add(plane.check)
    nodes = real_nodes(env, cache, repo)
    add(nodes.check)

    gomodcache = Path(command_output(["go", "env", "GOMODCACHE"], env) or cache / "gomod")
    gocache = Path(command_output(["go", "env", "GOCACHE"], env) or cache / "gobuild")
    gocache_bytes = directory_bytes(gocache) if gocache.is_dir() else 0
    warm_gocache = gocache_bytes > WARM_GOCACHE_BYTES
    add(
        Check(
            "go caches",
            f"module cache {gomodcache} ({'present' if gomodcache.is_dir() else 'empty'}), "
            f"build cache {gocache} ({gib(gocache_bytes)}: {'warm' if warm_gocache else 'cold'})",
            ok=True,
        )
    )

    needs_build = bool(missing) or not plane.built or (nodes.possible and not nodes.built)
    need_gib = build_space_gib(warm_gocache, gomodcache.is_dir()) if needs_build else 0.0
    free = free_bytes(existing_parent(cache))
    add(
        Check(
            "disk",
            f"{gib(free)} free under {existing_parent(cache)}"
            + (f"; the build still to do needs about {need_gib:.1f} GiB" if needs_build else ""),
            ok=free >= need_gib * 2**30,
            blocking=True,
        )
    )

    warmth = "warm-gocache" if warm_gocache else "cold"
    report.plan.extend(make_up_plan(env, stack, venv.exists(), missing, cache, warmth, plane, nodes))
    return report


def free_bytes(path: Path) -> int:
    """Free space where the caches go; one function so tests can set it."""
    return shutil.disk_usage(path).free


def build_space_gib(warm_gocache: bool, module_cache_present: bool) -> float:
    """A warm Go build cache or a present module cache is space the build no longer fills."""
    pieces = dict(BUILD_SPACE_GIB)
    if warm_gocache:
        pieces.pop("go-build-cache")
    if module_cache_present:
        pieces.pop("go-module-cache")
    return sum(pieces.values())


def make_up_plan(
    env: Mapping[str, str],
    stack: str,
    has_venv: bool,
    missing: list[str],
    cache: Path,
    warmth: str,
    plane: ControlPlane,
    nodes: RealNodes | None = None,
) -> list[str]:
    """What `make up` will do next, in order, with the expected time of each step."""
    plan: list[str] = []
    if not has_venv:
        plan.append(f"create .venv with the pinned Python packages ({estimate('venv')})")
    kubeconfig = env.get("KUBECONFIG")
    target = env.get("TARGET") or env.get("HASTACK_TARGET") or ("kubeconfig" if kubeconfig else "local")
    if choose_toolchain(env.get("TOOLCHAIN") or "auto", target, env) == "system":
        plan.append(
            f"use the `pulumi` on PATH ({shutil.which('pulumi', path=env.get('PATH'))}) and its "
            "plugins: nothing to build (TOOLCHAIN=system)"
        )
    elif missing:
        plan.append(toolchain_step(missing, cache, warmth))
    if kubeconfig:
        plan.append(f"deploy into the cluster of KUBECONFIG={kubeconfig}")
    else:
        if not plane.built:
            plan.append(f"build the local control plane and fetch its CRDs ({estimate('cluster-' + warmth)})")
        elif not plane.crds_fetched:
            plan.append(
                "fetch the upstream CRDs (Gateway API, Envoy Gateway, cert-manager) from the Go module "
                f"proxy ({estimate('cluster-crds')})"
            )
        real = nodes is not None and nodes.possible and env.get("HASTACK_NODES", "auto") in {"auto", "real"}
        if real and nodes is not None and not nodes.built and not plane.running:
            plan.append(
                "build the real nodes' kubelet, kube-proxy, CoreDNS, metrics-server, kube-router, Traefik "
                f"and the test app (cluster/build-nodes.sh, {estimate('nodes-' + warmth)})"
            )
        if not plane.running:
            plan.append(f"start the local control plane on loopback ({estimate('cluster-start')})")
            if real:
                plan.append(
                    "start three real nodes in network namespaces of their own, with CoreDNS, metrics-server "
                    f"and Traefik ({estimate('nodes-start')})"
                )
    plan.append(f"`pulumi up` of the {stack} stack with the policy pack ({estimate('up')})")
    return plan


def render(report: Report) -> str:
    width = max(len(c.name) for c in report.checks)
    lines = ["hastack doctor"]
    for check in report.checks:
        mark = "ok " if check.ok else ("NO " if check.blocking else "-- ")
        lines.append(f"  {mark} {check.name:<{width}}  {check.found}")
    if report.blocked:
        lines.append("make up cannot succeed here until the lines marked NO are fixed.")
    else:
        lines.append("make up will:")
        lines.extend(f"  {n}. {step}" for n, step in enumerate(report.plan, 1))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make doctor", description=__doc__)
    parser.add_argument("--stack", default="dev", help="the stack `make up` would deploy")
    args = parser.parse_args(argv)
    report = diagnose(os.environ, stack=args.stack)
    print(render(report))
    return 1 if report.blocked else 0


if __name__ == "__main__":
    sys.exit(main())
