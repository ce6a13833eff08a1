"""`make bench`: render time and peak memory of hastack vs cdk8s-plus-33, then the policy pack.

Each measurement is a fresh process (so peak memory is per run); figures are medians of
several interleaved runs (BENCH_REPEATS, default 5; BENCH_SIZES, default 10,100) and ratios
against the peer measured in the same script, since the machine is shared.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hastack_tools.common.checkout import REPO_ROOT

HERE = Path(__file__).resolve().parent
SIZES = tuple(int(n) for n in os.environ.get("BENCH_SIZES", "10,100").split(","))
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))


@dataclass(frozen=True)
class Variant:
    """One program measured by the render comparison: a script, its arguments and environment."""

    label: str
    script: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()


RENDER_VARIANTS = (
    Variant("hastack", "hastack_render.py", env=(("HASTACK_GC_TUNING", "1"), ("HASTACK_SDK_PATCHES", "1"))),
    Variant("hastack-gc-default", "hastack_render.py", env=(("HASTACK_GC_TUNING", "0"),)),
    Variant("hastack-sdk-stock", "hastack_render.py", env=(("HASTACK_SDK_PATCHES", "0"),)),
    Variant("hastack-mock-stock", "hastack_render.py", env=(("HASTACK_MOCK_RESPONSES", "stock"),)),
    Variant(
        "hastack-untuned",
        "hastack_render.py",
        env=(("HASTACK_GC_TUNING", "0"), ("HASTACK_SDK_PATCHES", "0"), ("HASTACK_MOCK_RESPONSES", "stock")),
    ),
    Variant("cdk8s-plus-33-equal", "cdk8s_peer.py", ("equal",)),
    Variant("cdk8s-plus-33-minimal", "cdk8s_peer.py", ("minimal",)),
)
"""hastack as shipped, without GC tuning, without the SDK patches, answered by the SDK's own mock
monitor (the whole state encoded again), and without all three; the peer
with hastack's 9 kinds of object per app (equal object count) and with the 4 a minimal cdk8s-plus
app has (equal app count, fewer objects)."""


def _once(variant: Variant, count: int) -> dict[str, Any]:
    """One fresh process: its JSON line, plus the wall time from spawn to exit as seen from here."""
    env = {
        **os.environ,
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        "PYTHONPATH": str(REPO_ROOT),
        **dict(variant.env),
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(HERE / variant.script), str(count), *variant.args],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # one child at a time: the delta is this run
    if done.returncode != 0:
        raise RuntimeError(f"{variant.script} {count} {variant.args} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    # The larger of the two: wait4's figure has start-up and teardown but not a child left unreaped,
    # the script's own (taken before exit) has its live children (jsii's node) but not teardown.
    used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    result["cpu_s"] = max(used, float(result["cpu_s"]))
    return result


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in runs)


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "objects": runs[0]["objects"],
        "yaml_bytes": runs[0]["bytes"],
        "wall_s": _median(runs, "wall_s"),
        "cpu_s": _median(runs, "cpu_s"),
        "program_s": _median(runs, "work_s"),
        "peak_mib": max(float(r["peak_mib"]) for r in runs),
        "runs": len(runs),
    }


def _ratios(ours: dict[str, Any], peer: dict[str, Any]) -> dict[str, float]:
    return {
        "cpu": ours["cpu_s"] / peer["cpu_s"],
        "wall": ours["wall_s"] / peer["wall_s"],
        "cpu_per_object": (ours["cpu_s"] / ours["objects"]) / (peer["cpu_s"] / peer["objects"]),
    }


def render_comparison(
    sizes: tuple[int, ...] = SIZES, repeats: int = REPEATS, variants: tuple[Variant, ...] = RENDER_VARIANTS
) -> list[dict[str, Any]]:
    """Every variant at every size, `repeats` rounds, the order rotated each round so that all see
    the same background load; medians per variant and the ratios of hastack against each peer."""
    rows = []
    for count in sizes:
        runs: dict[str, list[dict[str, Any]]] = {v.label: [] for v in variants}
        for round_ in range(repeats):
            for offset in range(len(variants)):
                variant = variants[(round_ + offset) % len(variants)]
                runs[variant.label].append(_once(variant, count))
        summary = {label: _summary(found) for label, found in runs.items()}
        equal, minimal = summary["cdk8s-plus-33-equal"], summary["cdk8s-plus-33-minimal"]
        row: dict[str, Any] = {
            "apps": count,
            **summary,
            "ratio_equal_objects": _ratios(summary["hastack"], equal),
            "ratio_equal_objects_untuned": _ratios(summary["hastack-untuned"], equal),
            "ratio_equal_apps_minimal_peer": _ratios(summary["hastack"], minimal),
            "speedup_cpu_gc_tuning": summary["hastack-gc-default"]["cpu_s"] / summary["hastack"]["cpu_s"],
            "speedup_cpu_sdk_patches": summary["hastack-sdk-stock"]["cpu_s"] / summary["hastack"]["cpu_s"],
            "speedup_cpu_mock_copy": summary["hastack-mock-stock"]["cpu_s"] / summary["hastack"]["cpu_s"],
            "speedup_cpu_all": summary["hastack-untuned"]["cpu_s"] / summary["hastack"]["cpu_s"],
        }
        rows.append(row)
        for label, item in summary.items():
            print(
                f"render {count:>3} apps  {label:<22} {item['objects']:>5} objects  "
                f"cpu {item['cpu_s']:6.2f}s  wall {item['wall_s']:6.2f}s  "
                f"(program {item['program_s']:5.2f}s)  peak {item['peak_mib']:4.0f} MiB",
                flush=True,
            )
        for key, text in (
            ("ratio_equal_objects", "hastack / cdk8s-plus-33, equal object count"),
            ("ratio_equal_objects_untuned", "same, hastack without GC tuning, SDK patches, copied answers"),
            ("ratio_equal_apps_minimal_peer", "hastack / minimal cdk8s-plus-33 app, equal app count"),
        ):
            ratio = row[key]
            print(
                f"render {count:>3} apps  ratio {text}: cpu {ratio['cpu']:.2f}  wall {ratio['wall']:.2f}  "
                f"(cpu per object {ratio['cpu_per_object']:.2f})",
                flush=True,
            )
        print(
            f"render {count:>3} apps  hastack cpu speed-up: GC tuning x{row['speedup_cpu_gc_tuning']:.2f}, "
            f"SDK patches x{row['speedup_cpu_sdk_patches']:.2f}, copied mock answers "
            f"x{row['speedup_cpu_mock_copy']:.2f}, all x{row['speedup_cpu_all']:.2f}",
            flush=True,
        )
    return rows


def main() -> int:
    print(
        f"medians of {REPEATS} runs each, each run a fresh process (interleaved); cpu = user + system of "
        "the process and its children (jsii's node), wall = spawn to exit, program = build + YAML"
    )
    from benchmarks import checkov_bench, engine_bench, engine_scale, fleet_scale, policy_bench

    results: dict[str, Any] = {"render": render_comparison()}
    results["policy"] = policy_bench.main([])
    results["checkov"] = checkov_bench.main([])  # builds checkov's own venv on first use
    results["engine"] = engine_bench.main([])
    results["engine_scale"] = engine_scale.main()
    fleet = fleet_scale.main([])  # 10 stacks x 10 apps through `hastack fleet`, checkpoints on
    results.update(fleet_scale=fleet, fleet_up_ratio=fleet["fleet_up_ratio"])
    results["fleet_destroy_ratio"] = fleet["fleet_destroy_ratio"]
    out = REPO_ROOT / "build" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
