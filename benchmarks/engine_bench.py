"""The real engine on the local control plane: `pulumi preview` and `pulumi up` times for the dev and
prod stacks (medians of several runs) and their resource counts.

Per stack and run, each through `hastack_tools.ops.engine` (policy pack included, as `make up` runs it):
`up` into an empty namespace (creates everything, waits for the Deployments as Pulumi does), a
`preview` with nothing to change, then (once every Deployment runs its replica floor, the HPA's in
prod) an `up` that changes every app's image (rolling updates paced by `minReadySeconds`, so this one
measures the rollout more than the engine), then an untimed `destroy`.
The stack runs from a temporary program dir whose stack file copy deploys into a unique namespace,
with a temporary state backend, so a stack deployed with `make up` is never touched. The control
plane is started if needed and then stopped again.

`python -m benchmarks.engine_bench [--stacks dev,prod] [--repeat 3]`; `main()` is what
`make bench` calls.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.common.toolchain import ToolchainError, toolchain_env
from hastack_tools.ops import engine

COMMAND_TIMES = ("preview", "up_create", "up_image")


def cluster_running() -> bool:
    """Whether the local control plane answers (then it is someone's: left running at the end)."""
    script = (
        f'. "{REPO_ROOT}/cluster/versions.sh" && [ -f "$CLUSTER_RUN/kubeconfig" ] && '
        '"$CLUSTER_BIN/kubectl" --kubeconfig "$CLUSTER_RUN/kubeconfig" get --raw=/readyz'
    )
    return subprocess.run(["bash", "-c", script], capture_output=True, check=False).returncode == 0


def kubectl_json(*args: str) -> Any:
    script = (
        f'. "{REPO_ROOT}/cluster/versions.sh" && '
        '"$CLUSTER_BIN/kubectl" --kubeconfig "$CLUSTER_RUN/kubeconfig" "$@"'
    )
    done = subprocess.run(
        ["bash", "-c", script, "kubectl", *args, "-o", "json"], capture_output=True, check=True
    )
    return json.loads(done.stdout)


def wait_for_floors(program: Path, stack: str, timeout: float = 120) -> None:
    """Until every Deployment runs its replica floor: prod's HPAs raise them from 1 within ~15 s of
    `up`, and the image-change `up` must roll the same number of pods on every run."""
    config = yaml.safe_load((program / f"Pulumi.{stack}.yaml").read_text())["config"]
    floors: dict[str, int] = {}
    for app in config["hastack:apps"]:
        floor = int(app["autoscaling"]["minReplicas"]) if "autoscaling" in app else int(app["replicas"])
        floors[app["name"]] = floor
        if "canary" in app:
            floors[f"{app['name']}-canary"] = floor
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = kubectl_json("-n", config["hastack:namespace"], "get", "deployments")["items"]
        found = {
            d["metadata"]["labels"]["app.kubernetes.io/instance"]: (
                d["spec"].get("replicas"),
                d["status"].get("availableReplicas"),
            )
            for d in items
        }
        if found == {key: (floor, floor) for key, floor in floors.items()}:
            return
        time.sleep(1)
    raise engine.EngineError(f"{stack}: Deployments did not reach their floors {floors} in {timeout:.0f}s")


def change_images(program: Path, stack: str, run: int) -> None:
    """A new tag (or digest) for every app, different on every run."""
    path = program / f"Pulumi.{stack}.yaml"
    stack_file = yaml.safe_load(path.read_text())
    for app in stack_file["config"]["hastack:apps"]:
        image = app["image"]
        if "@sha256:" in image:
            app["image"] = image.split("@", 1)[0] + "@sha256:" + f"{run + 1:x}".rjust(64, "0")
        else:
            app["image"] = image.rsplit(":", 1)[0] + f":9.9.{run}"
    path.write_text(yaml.safe_dump(stack_file, sort_keys=False))


def timed(command: str, program: Path, stack: str, workdir: Path, log: Path) -> float:
    start = time.monotonic()
    with log.open("ab") as sink:
        code = engine.run(command, program, stack, "local", workdir=workdir, log=sink)
    elapsed = time.monotonic() - start
    if code != 0:
        raise engine.EngineError(f"pulumi {command} of {stack} failed ({code}); see {log}")
    return elapsed


def resource_count(workdir: Path, stack: str) -> dict[str, int]:
    """Pulumi resources in the state (stack, components, providers included) and Kubernetes objects."""
    state = json.loads((workdir / "state" / ".pulumi" / "stacks" / "hastack" / f"{stack}.json").read_text())
    resources = state["checkpoint"]["latest"]["resources"]
    kubernetes = [
        r for r in resources if r["type"].startswith("kubernetes:") and "providers" not in r["type"]
    ]
    return {"pulumi_resources": len(resources), "kubernetes_objects": len(kubernetes)}


def bench_stack(stack: str, repeat: int) -> dict[str, Any]:
    times: dict[str, list[float]] = {key: [] for key in COMMAND_TIMES}
    with tempfile.TemporaryDirectory(prefix=f"engine-bench-{stack}-") as tmp:
        root = Path(tmp)
        program, _ = engine.program_copy(root, stack, f"bench-{uuid.uuid4().hex[:6]}")
        workdir = root / "work"
        workdir.mkdir()
        log = root / "engine.log"
        counts: dict[str, int] = {}
        try:
            for run in range(repeat):
                times["up_create"].append(timed("up", program, stack, workdir, log))
                created = re.findall(r"\+ (\d+) created", log.read_text(errors="replace"))
                counts = {**resource_count(workdir, stack), "created_by_up": int(created[-1])}
                times["preview"].append(timed("preview", program, stack, workdir, log))
                wait_for_floors(program, stack)
                change_images(program, stack, run)
                times["up_image"].append(timed("up", program, stack, workdir, log))
                timed("destroy", program, stack, workdir, log)
        except engine.EngineError:
            print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
            with log.open("ab") as sink:
                engine.run("destroy", program, stack, "local", workdir=workdir, log=sink)
            raise
    result: dict[str, Any] = {f"{key}_s": round(statistics.median(v), 2) for key, v in times.items()}
    result["runs_s"] = {key: [round(t, 2) for t in v] for key, v in times.items()}
    result.update(counts)
    return result


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stacks", default="dev,prod")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        toolchain_env()
    except (engine.EngineError, ToolchainError, subprocess.CalledProcessError) as error:
        print(f"engine benchmark: skipped: {error}")
        return {"skipped": str(error)}
    ours = not cluster_running()
    results: dict[str, Any] = {"repeat": args.repeat, "target": "local control plane (kwok nodes)"}
    try:
        for stack in args.stacks.split(","):
            row = bench_stack(stack, args.repeat)
            results[stack] = row
            print(
                f"engine {stack}: preview {row['preview_s']:.1f}s, up (create) {row['up_create_s']:.1f}s, "
                f"up (image change, rolling) {row['up_image_s']:.1f}s; {row['kubernetes_objects']} "
                f"Kubernetes objects, {row['pulumi_resources']} Pulumi resources "
                f"(medians of {args.repeat})",
                flush=True,
            )
    finally:
        if ours:
            subprocess.run(
                ["bash", str(REPO_ROOT / "cluster" / "down.sh"), "--reset"], capture_output=True, check=False
            )
    return results


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
