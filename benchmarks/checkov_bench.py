"""`make policy` against render + checkov, over the same generated 100-app stack (fresh processes).

`make policy` runs the offline gate (`python -m hastack_tools.dev.gate`): the program under mocks,
then the hastack-ha pack over the analyzer protocol. The comparison renders the same stack to YAML
(`python -m hastack_tools.dev.render`, what `make render` runs) and scans those manifests with
checkov's Kubernetes checks, from its own venv (benchmarks/checkov_venv.sh builds it). Each side is
timed end to end, wall and CPU (rusage of the children), medians of interleaved rounds.
`python -m benchmarks.checkov_bench [--apps 100] [--repeat 3]`; `main()` is what `make bench` calls.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.engine_scale import STACK, write_program
from hastack_tools.common.checkout import REPO_ROOT

ALLOWED_EXIT = {0, 1}
"""0 clean, 1 findings: both are a finished evaluation (gate and checkov alike)."""


def checkov_executable() -> Path:
    """checkov from its own venv, built on first use (a no-op afterwards)."""
    done = subprocess.run(
        ["bash", str(REPO_ROOT / "benchmarks" / "checkov_venv.sh")],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(done.stdout.strip().splitlines()[-1])


def checkov_summary(report: str) -> dict[str, int]:
    """passed / failed / resource_count from checkov's JSON report (one framework: an object)."""
    loaded = json.loads(report)
    summary = (loaded[0] if isinstance(loaded, list) else loaded)["summary"]
    return {key: int(summary[key]) for key in ("passed", "failed", "resource_count")}


def timed(commands: Sequence[Sequence[str]]) -> dict[str, float]:
    """Runs the commands one after the other; wall and children's CPU of all of them."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    for command in commands:
        done = subprocess.run(list(command), check=False, capture_output=True, text=True, cwd=REPO_ROOT)
        if done.returncode not in ALLOWED_EXIT:
            raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr[-2000:]}")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu}


def run(apps: int, repeat: int) -> dict[str, Any]:
    checkov = checkov_executable()
    with tempfile.TemporaryDirectory(prefix="hastack-checkov-") as scratch:
        root = Path(scratch)
        program = write_program(root, apps, "bench")
        out = root / "rendered"
        gate = [sys.executable, "-m", "hastack_tools.dev.gate", "--program", str(program)]
        gate += ["--stack", STACK, "-q"]
        render = [sys.executable, "-m", "hastack_tools.dev.render", "--program", str(program)]
        render += ["--stack", STACK, "--out", str(out)]
        scan = [str(checkov), "-d", str(out), "--framework", "kubernetes", "--quiet", "--compact"]
        scan += ["--skip-download", "--output", "json"]
        sides = {"make policy (gate)": [gate], "render + checkov": [render, scan], "checkov alone": [scan]}
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
        timed([render])  # the manifests "checkov alone" scans
        for round_ in range(repeat):
            names = list(sides)
            for offset in range(len(names)):
                name = names[(round_ + offset) % len(names)]
                runs[name].append(timed(sides[name]))
        report = subprocess.run(scan, check=False, capture_output=True, text=True, cwd=REPO_ROOT).stdout
        scanned = checkov_summary(report)
    medians = {
        name: {key: statistics.median(r[key] for r in found) for key in ("wall_s", "cpu_s")}
        for name, found in runs.items()
    }
    gate_side, peer = medians["make policy (gate)"], medians["render + checkov"]
    return {
        "apps": apps,
        "runs": repeat,
        "checkov_summary": scanned,
        **medians,
        "ratio_wall": gate_side["wall_s"] / peer["wall_s"],
        "ratio_cpu": gate_side["cpu_s"] / peer["cpu_s"],
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--apps", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    result = run(args.apps, args.repeat)
    for name in ("make policy (gate)", "render + checkov", "checkov alone"):
        item = result[name]
        print(
            f"checkov_bench {result['apps']} apps  {name:<20} wall {item['wall_s']:6.2f}s  "
            f"cpu {item['cpu_s']:6.2f}s  (median of {result['runs']})"
        )
    print(f"checkov_bench {result['apps']} apps  checkov scanned: {result['checkov_summary']}")
    print(
        f"checkov_bench {result['apps']} apps  make policy / (render + checkov): "
        f"wall {result['ratio_wall']:.2f}  cpu {result['ratio_cpu']:.2f} (goal < 1)"
    )
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
