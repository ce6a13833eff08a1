"""The real engine at scale: `pulumi preview`/`up`/`destroy` of N generated apps on the local control
plane, beside the floor (`kubectl apply --server-side` of the same rendered manifests, then
`kubectl rollout status` of the Deployments, then a namespace delete).

N apps come from the generator `benchmarks/hastack_render.py` uses (prod-like: HPA, PDB, Ingress
with TLS, network policy, a generated secret each). Per size and run, interleaved (so each side sees
the same background load on this shared machine):

- engine, through `hastack_tools.ops.engine` exactly as `make preview`/`make up` run it (policy pack
  included): `preview` of the empty stack, `up` (creates everything, awaiting the Deployments),
  `preview` with nothing to change, `destroy`; at the size named by `--gc-compare-at` once with the
  program's GC tuning on and once off (`HASTACK_GC_TUNING=0`);
- floor: the same stack rendered under mocks (`hastack_tools.dev.render`, not timed), one
  `kubectl apply --server-side`, `kubectl rollout status` of every Deployment, a namespace delete.

Every step reports wall time, CPU of all its child processes (`getrusage(RUSAGE_CHILDREN)` deltas:
exact, includes processes reaped inside the tree), and per process role (pulumi CLI, language host,
program, policy pack, kubernetes provider, kubectl) its CPU and peak RSS (VmHWM), sampled from /proc
every 0.1 s; the control plane's own CPU (kube-apiserver, etcd, ...) is read from /proc around each
step (the control plane is shared: other sessions' load shows up there too).

`python -m benchmarks.engine_scale [--apps 10,50,100] [--repeat 3] [--gc-compare-at 100]`;
`main()` is what `make bench` calls (10 and 50 apps, 1 run each, unless `BENCH_ENGINE_APPS` says).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from benchmarks.hastack_render import generated_config
from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.common.toolchain import ToolchainError, toolchain_env
from hastack_tools.ops import engine

STACK = "bench"
CLUSTER_COMPONENTS = ("kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler", "kwok")
MEMORY_GOAL_MIB = 500
RATIO_GOAL = 3.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------- the generated stack


def stack_file(apps: int, namespace: str) -> dict[str, Any]:
    """`Pulumi.bench.yaml` for N generated apps in `namespace` (structured values, as a user writes them)."""
    config: dict[str, Any] = {}
    for key, value in generated_config(apps).items():
        try:
            config[key] = json.loads(value)
        except json.JSONDecodeError:
            config[key] = value  # a plain string such as the environment name
    config["hastack:namespace"] = namespace
    return {"config": config}


def write_program(root: Path, apps: int, namespace: str) -> Path:
    """A program folder (this repo's program, its .venv) whose `bench` stack holds N apps."""
    program = root / "program"
    program.mkdir(parents=True, exist_ok=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        (program / name).write_text((REPO_ROOT / name).read_text())
    venv = program / ".venv"
    if not venv.exists():
        venv.symlink_to(REPO_ROOT / ".venv", target_is_directory=True)
    (program / f"Pulumi.{STACK}.yaml").write_text(
        yaml.safe_dump(stack_file(apps, namespace), sort_keys=False)
    )
    return program


def floor_manifests(program: Path) -> list[dict[str, Any]]:
    """The objects `make render` writes for the program's stack, Namespace first, in one list."""
    from hastack_tools.dev.mockrun import run_program
    from hastack_tools.dev.render import manifest_order, render_groups

    groups = render_groups(run_program(program, STACK))
    return sorted((item for items in groups.values() for item in items), key=manifest_order)


# ----------------------------------------------------------------------------- measuring processes


def parse_stat(text: str) -> tuple[float, int]:
    """CPU seconds (user + system) and start time (ticks) from a /proc/<pid>/stat line.

    The command name (field 2) sits in parentheses and may itself hold spaces or ')'.
    """
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): utime and stime are fields 14 and 15, starttime field 22
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS, int(fields[19])


def parse_high_water_kib(status: str) -> int:
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def role_of(argv: Sequence[str]) -> str:
    """What a process is, from its command line."""
    if not argv:
        return "other"
    base = Path(argv[0]).name
    joined = " ".join(argv)
    if base == "pulumi":
        return "pulumi CLI"
    if base.startswith("pulumi-language-"):
        return "language host"
    if base == "pulumi-resource-kubernetes":
        return "kubernetes provider"
    if base.startswith("pulumi-resource-") or base.startswith("pulumi-analyzer-"):
        return "other plugins"
    if base == "kubectl":
        return "kubectl"
    if base.startswith("python"):
        if "pulumi-language-python-exec" in joined:
            return "program"
        if "pulumi.policy" in argv:
            return "policy pack"
        if "hastack_tools.standins.local_providers" in argv:
            return "local providers"  # the random/tls stand-ins (hastack_tools/standins/local_providers.py)
        return "language host"  # its short `python -c` probes (version, installed plugins)
    return "other"


@dataclass
class ProcessRecord:
    role: str
    argv: list[str]
    first_seen: float
    last_seen: float
    cpu_s: float = 0.0
    peak_kib: int = 0


def _read(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return handle.read().decode(errors="replace")
    except OSError:
        return None


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    pending = [pid]
    while pending:
        current = pending.pop()
        try:  # a process may end between being found and being read
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            children = _read(str(task / "children"))
            if children:
                kids = [int(c) for c in children.split()]
                found.extend(kids)
                pending.extend(kids)
    return found


class ProcessSampler:
    """Samples this process's descendants every `interval` s: per process CPU and VmHWM (last seen)."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.records: dict[tuple[int, int], ProcessRecord] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.started = 0.0

    def sample(self) -> None:
        now = time.monotonic()
        for pid in descendants(os.getpid()):
            stat = _read(f"/proc/{pid}/stat")
            status = _read(f"/proc/{pid}/status")
            if stat is None or status is None:
                continue
            cpu, start = parse_stat(stat)
            # the command line is read every time: a process seen between fork and exec (or a shell
            # that execs its target) shows its parent's first, its own later
            argv = [a for a in (_read(f"/proc/{pid}/cmdline") or "").split("\0") if a]
            record = self.records.get((pid, start))
            if record is None:
                record = self.records[(pid, start)] = ProcessRecord(role_of(argv), argv, now, now)
            elif argv and argv != record.argv:
                record.role, record.argv = role_of(argv), argv
            record.last_seen = now
            record.cpu_s = max(record.cpu_s, cpu)
            record.peak_kib = max(record.peak_kib, parse_high_water_kib(status))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> ProcessSampler:
        self.started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def by_role(self) -> dict[str, dict[str, float]]:
        """Per role: processes seen, summed CPU, the largest peak RSS, seconds from step start to its
        first and last sighting (where in the step that role ran)."""
        roles: dict[str, dict[str, float]] = {}
        for record in self.records.values():
            row = roles.setdefault(
                record.role, {"processes": 0, "cpu_s": 0.0, "peak_mib": 0.0, "from_s": 1e9, "to_s": 0.0}
            )
            row["processes"] += 1
            row["cpu_s"] += record.cpu_s
            row["peak_mib"] = max(row["peak_mib"], record.peak_kib / 1024)
            row["from_s"] = min(row["from_s"], record.first_seen - self.started)
            row["to_s"] = max(row["to_s"], record.last_seen - self.started)
        return {role: {k: round(v, 2) for k, v in row.items()} for role, row in sorted(roles.items())}


def rusage_cpu_s(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def cluster_pids(run_dir: Path) -> dict[str, int]:
    pids: dict[str, int] = {}
    for name in CLUSTER_COMPONENTS:
        text = _read(str(run_dir / "pids" / name))
        if text and text.strip().isdigit():
            pids[name] = int(text.strip())
    return pids


def cluster_cpu(pids: Mapping[str, int]) -> dict[str, float]:
    cpu: dict[str, float] = {}
    for name, pid in pids.items():
        stat = _read(f"/proc/{pid}/stat")
        if stat is not None:
            cpu[name] = parse_stat(stat)[0]
    return cpu


@dataclass
class Step:
    """One measured step: wall, CPU of all children, per-role detail, control-plane CPU."""

    name: str
    wall_s: float
    cpu_s: float
    roles: dict[str, dict[str, float]]
    cluster_cpu_s: dict[str, float]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def peak_mib(self) -> float:
        return max((row["peak_mib"] for row in self.roles.values()), default=0.0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "wall_s": round(self.wall_s, 2),
            "cpu_s": round(self.cpu_s, 2),
            "peak_mib": round(self.peak_mib, 1),
            "roles": self.roles,
            "cluster_cpu_s": self.cluster_cpu_s,
            **self.extra,
        }


def measure(name: str, action: Callable[[], Any], cluster: Mapping[str, int]) -> Step:
    """Runs `action` under the sampler; raises if it returns a non-zero exit code."""
    before_cluster = cluster_cpu(cluster)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    with ProcessSampler() as sampler:
        code = action()
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    after_cluster = cluster_cpu(cluster)
    if code not in (0, None):
        raise engine.EngineError(f"{name} failed with exit code {code}")
    control_plane = {
        k: round(after_cluster[k] - before_cluster[k], 2) for k in after_cluster if k in before_cluster
    }
    return Step(name, wall, rusage_cpu_s(after) - rusage_cpu_s(before), sampler.by_role(), control_plane)


# ----------------------------------------------------------------------------- the two sides


@dataclass(frozen=True)
class Cluster:
    kubectl: str
    kubeconfig: str
    run_dir: Path

    @classmethod
    def local(cls) -> Cluster:
        """The running local control plane (started by cluster/up.sh if it is not)."""
        env = toolchain_env()
        kubeconfig = engine.start_local_cluster(env, None)
        script = f'. "{REPO_ROOT}/cluster/versions.sh" && echo "$CLUSTER_BIN/kubectl"'
        kubectl = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
        return cls(kubectl.stdout.strip(), kubeconfig, Path(kubeconfig).parent)

    def kubectl_cmd(self, *args: str) -> list[str]:
        return [self.kubectl, "--kubeconfig", self.kubeconfig, *args]


def run_logged(command: Sequence[str], log: Path, stdin: bytes | None = None) -> int:
    with log.open("ab") as sink:
        sink.write(("$ " + " ".join(command) + "\n").encode())
        sink.flush()
        return subprocess.run(command, input=stdin, stdout=sink, stderr=sink, check=False).returncode


def floor_run(
    cluster: Cluster, manifests: list[dict[str, Any]], namespace: str, log: Path
) -> dict[str, Step]:
    """kubectl apply --server-side of the manifests, rollout status of the Deployments, delete."""
    from hastack_tools.dev.render import dump_manifests

    pids = cluster_pids(cluster.run_dir)
    document = dump_manifests(manifests).encode()
    apply = cluster.kubectl_cmd("apply", "--server-side", "--field-manager", "hastack-bench", "-f", "-")
    rollout = cluster.kubectl_cmd(
        "rollout", "status", "deployment", "-n", namespace, "-l", "app.kubernetes.io/part-of=hastack",
        "--timeout", "900s",
    )  # fmt: skip
    steps = {
        "apply": measure("kubectl apply", lambda: run_logged(apply, log, document), pids),
        "rollout": measure("kubectl rollout status", lambda: run_logged(rollout, log), pids),
    }
    delete = cluster.kubectl_cmd("delete", "namespace", namespace, "--wait=true", "--timeout=900s")
    steps["delete"] = measure("kubectl delete namespace", lambda: run_logged(delete, log), pids)
    return steps


def engine_run(
    program: Path, workdir: Path, cluster: Cluster, gc_tuning: bool, log: Path, args: argparse.Namespace
) -> dict[str, Step]:
    """preview (empty stack), up, preview (no changes), destroy: each as `make` runs it."""
    pids = cluster_pids(cluster.run_dir)
    env = {**dict(args.env), "KUBECONFIG": cluster.kubeconfig, "HASTACK_GC_TUNING": "1" if gc_tuning else "0"}
    extra_args = args.pulumi_args
    steps: dict[str, Step] = {}

    def command(name: str, verb: str) -> None:
        more = ["--skip-preview"] if verb == "up" and args.up_skip_preview else []

        def action() -> int:
            with log.open("ab") as sink:
                return engine.run(
                    verb,
                    program,
                    STACK,
                    "local",
                    [*extra_args, *more],
                    workdir=workdir,
                    env_overrides=env,
                    log=sink,
                )

        steps[name] = measure(f"pulumi {verb}", action, pids)

    try:
        command("preview", "preview")
        command("up", "up")
        command("preview_nochange", "preview")
    except engine.EngineError:
        print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
        raise
    finally:
        try:
            command("destroy", "destroy")
        except engine.EngineError:  # leave the shared control plane clean all the same
            namespace = stack_file_namespace(program)
            subprocess.run(cluster.kubectl_cmd("delete", "namespace", namespace, "--wait=false"), check=False)
            raise
    return steps


def stack_file_namespace(program: Path) -> str:
    config = yaml.safe_load((program / f"Pulumi.{STACK}.yaml").read_text())["config"]
    return str(config["hastack:namespace"])


# ----------------------------------------------------------------------------- the benchmark


def parse_sizes(text: str) -> list[int]:
    """`10,50,100` -> [10, 50, 100]; names the bad item otherwise."""
    sizes = []
    for raw in text.split(","):
        item = raw.strip()
        if not item.isdigit() or int(item) < 1:
            raise argparse.ArgumentTypeError(f"--apps: {item!r} is not a positive app count (e.g. 10,50,100)")
        sizes.append(int(item))
    return sizes


def parse_env(text: str) -> tuple[str, str]:
    """`NAME=VALUE` -> (NAME, VALUE)."""
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"--env: {text!r} is not NAME=VALUE")
    return name, value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--apps", type=parse_sizes, default=parse_sizes("10,50,100"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--gc-compare-at",
        type=int,
        default=100,
        help="app count at which the engine runs with GC tuning on and off",
    )
    parser.add_argument("--skip-floor", action="store_true", help="engine runs only")
    parser.add_argument(
        "--up-skip-preview",
        action="store_true",
        help="`pulumi up --skip-preview` (the preview step is measured on its own anyway)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        type=parse_env,
        metavar="NAME=VALUE",
        help="extra environment for the engine runs, e.g. PULUMI_SKIP_CHECKPOINTS=true (repeatable)",
    )
    parser.add_argument("--out", type=Path, help="write the JSON results here too")
    parser.add_argument("--log-dir", type=Path, default=REPO_ROOT / "build" / "bench" / "engine-scale")
    parser.add_argument(
        "pulumi_args", nargs="*", help="extra arguments for pulumi (after --), e.g. --parallel 16"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def median_summary(steps: list[Step]) -> dict[str, Any]:
    """Medians over runs of one step: wall, CPU, per-role CPU; the maximum of every peak RSS."""
    roles = sorted({role for step in steps for role in step.roles})
    return {
        "wall_s": round(statistics.median(s.wall_s for s in steps), 2),
        "cpu_s": round(statistics.median(s.cpu_s for s in steps), 2),
        "peak_mib": round(max(s.peak_mib for s in steps), 1),
        "runs_wall_s": [round(s.wall_s, 2) for s in steps],
        "roles": {
            role: {
                "cpu_s": round(statistics.median(s.roles.get(role, {}).get("cpu_s", 0.0) for s in steps), 2),
                "peak_mib": round(max(s.roles.get(role, {}).get("peak_mib", 0.0) for s in steps), 1),
            }
            for role in roles
        },
        "cluster_cpu_s": {
            name: round(statistics.median(s.cluster_cpu_s.get(name, 0.0) for s in steps), 2)
            for name in CLUSTER_COMPONENTS
        },
    }


def bench_size(apps: int, args: argparse.Namespace, cluster: Cluster, root: Path) -> dict[str, Any]:
    variants = [True, False] if apps == args.gc_compare_at else [True]
    tag = uuid.uuid4().hex[:6]
    engine_steps: dict[bool, list[dict[str, Step]]] = {v: [] for v in variants}
    floor_steps: list[dict[str, Step]] = []
    args.log_dir.mkdir(parents=True, exist_ok=True)
    log = args.log_dir / f"engine-scale-{apps}.log"
    floor_ns = f"bench-f{apps}-{tag}"
    manifests = (
        [] if args.skip_floor else floor_manifests(write_program(root / f"floor{apps}", apps, floor_ns))
    )
    for run in range(args.repeat):
        for gc_tuning in variants:
            namespace = f"bench-e{apps}-{tag}-{run}{'g' if gc_tuning else 'n'}"
            workdir = root / f"work{apps}-{run}-{int(gc_tuning)}"
            workdir.mkdir()
            program = write_program(root / f"engine{apps}", apps, namespace)
            engine_steps[gc_tuning].append(engine_run(program, workdir, cluster, gc_tuning, log, args))
            report_run(
                apps, f"engine gc={'on' if gc_tuning else 'off'} run {run + 1}", engine_steps[gc_tuning][-1]
            )
        if manifests:
            floor_steps.append(floor_run(cluster, manifests, floor_ns, log))
            report_run(apps, f"floor run {run + 1}", floor_steps[-1])
    result: dict[str, Any] = {"apps": apps, "objects": len(manifests) or None, "repeat": args.repeat}
    for gc_tuning, runs in engine_steps.items():
        key = "engine" if gc_tuning else "engine_gc_off"
        result[key] = {name: median_summary([r[name] for r in runs]) for name in runs[0]}
    if floor_steps:
        result["floor"] = {name: median_summary([r[name] for r in floor_steps]) for name in floor_steps[0]}
        floor = [r["apply"].wall_s + r["rollout"].wall_s for r in floor_steps]
        up = [r["up"].wall_s for r in engine_steps[True]]
        result["floor_apply_rollout_s"] = round(statistics.median(floor), 2)
        result["ratio_up_to_floor"] = round(statistics.median(up) / statistics.median(floor), 2)
    if False in engine_steps:
        result["gc_off_over_on"] = {
            name: {
                "wall": round(result["engine_gc_off"][name]["wall_s"] / result["engine"][name]["wall_s"], 2),
                "program_cpu": _ratio(result["engine_gc_off"][name], result["engine"][name], "program"),
            }
            for name in ("preview", "up", "preview_nochange")
        }
    return result


def _ratio(slow: dict[str, Any], fast: dict[str, Any], role: str) -> float | None:
    low = fast["roles"].get(role, {}).get("cpu_s", 0.0)
    return round(slow["roles"].get(role, {}).get("cpu_s", 0.0) / low, 2) if low else None


def report_run(apps: int, label: str, steps: Mapping[str, Step]) -> None:
    parts = []
    for name, step in steps.items():
        role, top = max(
            step.roles.items(), key=lambda kv: kv[1]["peak_mib"], default=("-", {"peak_mib": 0.0})
        )
        parts.append(
            f"{name} {step.wall_s:.1f}s wall/{step.cpu_s:.1f}s cpu (peak {top['peak_mib']:.0f} MiB {role})"
        )
    print(f"engine-scale {apps:>3} apps, {label}: " + "; ".join(parts), flush=True)


@contextmanager
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="engine-scale-") as tmp:
        yield Path(tmp)


def run(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    try:
        cluster = Cluster.local()
    except (engine.EngineError, ToolchainError, subprocess.CalledProcessError) as error:
        print(f"engine-scale benchmark: skipped: {error}")
        return {"skipped": str(error)}
    results: dict[str, Any] = {
        "repeat": args.repeat,
        "pulumi_args": args.pulumi_args,
        "env": dict(args.env),
        "up_skip_preview": args.up_skip_preview,
        "sizes": [],
    }
    with scratch() as root:
        for apps in args.apps:
            row = bench_size(apps, args, cluster, root)
            results["sizes"].append(row)
            summarize(row)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return results


def summarize(row: dict[str, Any]) -> None:
    ours = {name: step["wall_s"] for name, step in row["engine"].items()}
    line = (
        f"engine-scale {row['apps']} apps (medians of {row['repeat']}): preview {ours['preview']}s, "
        f"up {ours['up']}s, no-change preview {ours['preview_nochange']}s, destroy {ours['destroy']}s"
    )
    if "floor" in row:
        floor = {name: step["wall_s"] for name, step in row["floor"].items()}
        line += (
            f"; floor apply {floor['apply']}s + rollout {floor['rollout']}s: "
            f"up/floor {row['ratio_up_to_floor']} (goal <= {RATIO_GOAL})"
        )
    peaks = [
        (role, values["peak_mib"])
        for side in ("engine", "engine_gc_off", "floor")
        for step in row.get(side, {}).values()
        for role, values in step["roles"].items()
    ]
    role, peak = max(peaks, key=lambda kv: kv[1])
    line += f"; largest peak RSS {peak} MiB ({role}, goal < {MEMORY_GOAL_MIB})"
    if "gc_off_over_on" in row:
        line += f"; GC off/on {row['gc_off_over_on']}"
    print(line, flush=True)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """`make bench`: the small sizes by default (a 100-app round takes minutes on 2 cores)."""
    if argv is None or not argv:
        sizes = os.environ.get("BENCH_ENGINE_APPS", "10,50")
        argv = ["--apps", sizes, "--repeat", os.environ.get("BENCH_ENGINE_REPEAT", "1")]
    return run(argv)


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1:]), indent=2))
