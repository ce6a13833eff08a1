"""`make bench`: render time and peak memory of hastack vs cdk8s-plus-33, then the policy pack.

Each measurement is a fresh process (so peak memory is per run); figures are medians of
several runs and ratios against the peer measured in the same script, since the machine is shared.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SIZES = (1, 10, 100)
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))


def _once(script: str, count: int) -> dict[str, Any]:
    env = {**os.environ, "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1", "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, str(HERE / script), str(count)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in runs)


def render_comparison() -> list[dict[str, Any]]:
    rows = []
    for count in SIZES:
        ours, peer = [], []
        for _ in range(REPEATS):  # interleaved, so both see the same background load
            ours.append(_once("hastack_render.py", count))
            peer.append(_once("cdk8s_peer.py", count))
        row = {
            "apps": count,
            "hastack_objects": ours[0]["objects"],
            "cdk8s_objects": peer[0]["objects"],
            "hastack_work_s": _median(ours, "work_s"),
            "cdk8s_work_s": _median(peer, "work_s"),
            "hastack_total_s": _median(ours, "total_s"),
            "cdk8s_total_s": _median(peer, "total_s"),
            "hastack_peak_mib": max(r["peak_mib"] for r in ours),
            "cdk8s_peak_mib": max(r["peak_mib"] for r in peer),
        }
        row["ratio_work"] = row["hastack_work_s"] / row["cdk8s_work_s"]
        row["ratio_total"] = row["hastack_total_s"] / row["cdk8s_total_s"]
        row["ratio_per_object_total"] = (row["hastack_total_s"] / row["hastack_objects"]) / (
            row["cdk8s_total_s"] / row["cdk8s_objects"]
        )
        rows.append(row)
        print(
            f"render {count:>3} apps: hastack {row['hastack_total_s']:.2f}s "
            f"({row['hastack_objects']} objects, peak {row['hastack_peak_mib']:.0f} MiB) "
            f"vs cdk8s-plus-33 {row['cdk8s_total_s']:.2f}s "
            f"({row['cdk8s_objects']} objects, peak {row['cdk8s_peak_mib']:.0f} MiB): "
            f"ratio {row['ratio_total']:.2f} (program only {row['ratio_work']:.2f}; "
            f"per object {row['ratio_per_object_total']:.2f})",
            flush=True,
        )
    return rows


def main() -> int:
    print(f"medians of {REPEATS} runs each, each run a fresh process; total = imports + build + synth")
    results: dict[str, Any] = {"render": render_comparison()}
    try:
        from benchmarks import policy_bench
    except ImportError:
        print("policy benchmark: benchmarks/policy_bench.py not present")
    else:
        results["policy"] = policy_bench.main([])
    try:
        from benchmarks import engine_bench
    except ImportError:
        print("engine benchmark: benchmarks/engine_bench.py not present")
    else:
        results["engine"] = engine_bench.main([])
    from benchmarks import engine_scale

    results["engine_scale"] = engine_scale.main()
    out = REPO / "build" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
