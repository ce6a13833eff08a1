"""100 apps through the fleet, with the CLI's checkpoints on: S stacks of A generated apps each (the
generator of engine_scale.py, prod-like), one wave deploying P stacks at once, `hastack fleet up` then
`destroy` exactly as the commands run them (pack in every `up`; the policy-preview and no-change
gates off, the Available gate on), beside the floor: one `kubectl apply --server-side` of the same
rendered manifests, `kubectl rollout status` per namespace, one delete of the namespaces.

Interleaved per run on a local control plane of its own (HASTACK_CLUSTER=fleet-bench, kept running
between runs). Records `fleet_up_ratio` (fleet up / apply + rollout) and `fleet_destroy_ratio`
(fleet destroy / namespace delete), with the peak memory of every process role, in
build/bench/results.json.

`python -m benchmarks.fleet_scale [--stacks 10] [--apps 10] [--parallelism 5] [--repeat 3]` (medians)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from benchmarks.engine_scale import Cluster, Step, cluster_pids, measure, run_logged, stack_file
from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.common.toolchain import toolchain_env
from hastack_tools.ops import engine
from hastack_tools.ops.fleet import Orchestrator
from hastack_tools.ops.fleet_config import load

CLUSTER = "fleet-bench"
RESULTS = REPO_ROOT / "build" / "bench" / "results.json"


def write_fleet(root: Path, stacks: int, apps: int, parallelism: int) -> Path:
    """The repo's program with S stack files of A apps each (namespace fleetbench-<i>), and the fleet."""
    program = root / "program"
    program.mkdir(parents=True, exist_ok=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        (program / name).write_text((REPO_ROOT / name).read_text())
    (program / ".venv").symlink_to(REPO_ROOT / ".venv", target_is_directory=True)
    names = [f"fb{i}" for i in range(stacks)]
    for i, name in enumerate(names):
        text = yaml.safe_dump(stack_file(apps, f"fleetbench-{i}"), sort_keys=False)
        (program / f"Pulumi.{name}.yaml").write_text(text)
    fleet = {
        "name": "fleetbench",
        "program": "program",
        "stacks": [{"name": name, "cluster": CLUSTER} for name in names],
        "waves": [
            {
                "name": "all",
                "stacks": names,
                "parallelism": parallelism,
                "gates": {"policy": False, "noChangePreview": False, "availableTimeoutSeconds": 900},
            }
        ],
    }
    path = root / "Fleet.yaml"
    path.write_text(yaml.safe_dump(fleet, sort_keys=False))
    return path


def floor_manifests(program: Path, stacks: int) -> list[dict[str, Any]]:
    """What `make render` writes for every stack, Namespaces first."""
    from hastack_tools.dev.mockrun import run_program
    from hastack_tools.dev.render import manifest_order, render_groups

    found: list[dict[str, Any]] = []
    for i in range(stacks):
        groups = render_groups(run_program(program, f"fb{i}"))
        found += [item for items in groups.values() for item in items]
    return sorted(found, key=manifest_order)


def floor_run(cluster: Cluster, manifests: list[dict[str, Any]], stacks: int, log: Path) -> dict[str, Step]:
    from hastack_tools.dev.render import dump_manifests

    pids = cluster_pids(cluster.run_dir)
    namespaces = [f"fleetbench-{i}" for i in range(stacks)]
    document = dump_manifests(manifests).encode()
    apply = cluster.kubectl_cmd("apply", "--server-side", "--field-manager", "hastack-bench", "-f", "-")

    def rollouts() -> int:
        for namespace in namespaces:
            command = cluster.kubectl_cmd(
                "rollout", "status", "deployment", "-n", namespace, "--timeout", "900s"
            )  # fmt: skip
            code = run_logged(command, log)
            if code:
                return code
        return 0

    steps = {
        "apply": measure("kubectl apply", lambda: run_logged(apply, log, document), pids),
        "rollout": measure("kubectl rollout status", rollouts, pids),
    }
    delete = cluster.kubectl_cmd("delete", "namespace", *namespaces, "--wait=true", "--timeout=900s")
    steps["delete"] = measure("kubectl delete namespace", lambda: run_logged(delete, log), pids)
    return steps


def fleet_run(cluster: Cluster, fleet_file: Path, workdir: Path, log: Path) -> dict[str, Step]:
    pids = cluster_pids(cluster.run_dir)
    steps: dict[str, Step] = {}
    with log.open("a") as sink:
        orchestrator = Orchestrator(load(fleet_file), workdir, out=lambda line: print(line, file=sink))
        try:
            steps["up"] = measure("hastack fleet up", orchestrator.up, pids)
        finally:  # a failed up is destroyed all the same: the control plane is left clean
            try:
                steps["destroy"] = measure("hastack fleet destroy", orchestrator.destroy, pids)
            except engine.EngineError:
                stacks = len(orchestrator.fleet.targets)
                namespaces = [f"fleetbench-{i}" for i in range(stacks)]
                delete = cluster.kubectl_cmd("delete", "namespace", "--ignore-not-found", *namespaces)
                run_logged(delete, log)
                raise
    return steps


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stacks", type=int, default=int(os.environ.get("BENCH_FLEET_STACKS", "10")))
    parser.add_argument("--apps", type=int, default=int(os.environ.get("BENCH_FLEET_APPS", "10")))
    parser.add_argument("--parallelism", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    env = {**toolchain_env(), "HASTACK_CLUSTER": CLUSTER, "HASTACK_NODES": "kwok"}  # as the floor's figures
    kubeconfig = engine.start_local_cluster(env, None)
    script = f'. "{REPO_ROOT}/cluster/versions.sh" && echo "$CLUSTER_BIN/kubectl"'
    kubectl = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True, env=env)
    cluster = Cluster(kubectl.stdout.strip(), kubeconfig, Path(kubeconfig).parent)
    runs: list[dict[str, dict[str, Step]]] = []
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as folder:
        root = Path(folder)
        fleet_file = write_fleet(root, args.stacks, args.apps, args.parallelism)
        manifests = floor_manifests(root / "program", args.stacks)
        log = REPO_ROOT / "build" / "bench" / "fleet_scale.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("")
        for index in range(args.repeat):
            runs.append(
                {
                    "floor": floor_run(cluster, manifests, args.stacks, log),
                    "fleet": fleet_run(cluster, fleet_file, root / f"work-{index}", log),
                }
            )

    def median(side: str, *steps: str) -> float:
        return statistics.median(sum(run[side][step].wall_s for step in steps) for run in runs)

    fleet_up, floor_up = median("fleet", "up"), median("floor", "apply", "rollout")
    fleet_down, floor_down = median("fleet", "destroy"), median("floor", "delete")
    result: dict[str, Any] = {
        "stacks": args.stacks,
        "apps_per_stack": args.apps,
        "parallelism": args.parallelism,
        "repeat": args.repeat,
        "fleet_up_s": round(fleet_up, 1),
        "floor_up_s": round(floor_up, 1),
        "fleet_destroy_s": round(fleet_down, 1),
        "floor_destroy_s": round(floor_down, 1),
        "fleet_up_ratio": round(fleet_up / floor_up, 2),
        "fleet_destroy_ratio": round(fleet_down / floor_down, 2),
        "runs": [
            {side: {k: s.as_dict() for k, s in steps.items()} for side, steps in run.items()} for run in runs
        ],
    }
    peaks = {
        role: max(
            run["fleet"][step].roles.get(role, {}).get("peak_mib", 0.0)
            for run in runs
            for step in run["fleet"]
        )
        for role in {role for run in runs for step in run["fleet"].values() for role in step.roles}
    }
    result["fleet_peak_mib_by_role"] = {role: round(peak, 1) for role, peak in sorted(peaks.items())}
    up_ratio, down_ratio = result["fleet_up_ratio"], result["fleet_destroy_ratio"]
    print(
        f"fleet {args.stacks} stacks x {args.apps} apps (parallelism {args.parallelism}, checkpoints on): "
        f"up {fleet_up:.0f} s vs kubectl apply + rollout {floor_up:.0f} s (ratio {up_ratio}); "
        f"destroy {fleet_down:.0f} s vs namespace delete {floor_down:.0f} s (ratio {down_ratio}); "
        f"peak MiB by role {result['fleet_peak_mib_by_role']}"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    recorded = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    recorded.update(
        fleet_scale=result,
        fleet_up_ratio=result["fleet_up_ratio"],
        fleet_destroy_ratio=result["fleet_destroy_ratio"],
    )
    RESULTS.write_text(json.dumps(recorded, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
