"""Policy evaluation time over a generated 100-app stack (~1,000 resources).

The real program runs once under mocks on the same generated prod config as the render benchmark
(not timed); then the pack, started as the engine starts it,
evaluates the stack over the analyzer protocol (Analyze per resource + AnalyzeStack) several times
with the strict prod config. Reports the median, and the pack process's peak RSS.
`python -m benchmarks.policy_bench [--apps 100] [--repeat 5]`; `main()` is what `make bench` calls.
"""

from __future__ import annotations

import argparse
import runpy
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.hastack_render import generated_config
from benchmarks.measure import high_water_mib
from hastack_tools.dev.analyzer import PolicyPackProcess, load_config_file, resolve_config, views_from_records
from hastack_tools.dev.mockrun import run_function

ROOT = Path(__file__).resolve().parents[1]


def stack_program() -> None:
    """The real program (`__main__.py`), on the config `generated_config` hands it."""
    runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")


def run(apps: int = 100, repeat: int = 5) -> dict[str, Any]:
    """Median policy-evaluation seconds over `repeat` evaluations of a `apps`-app stack."""
    started = time.perf_counter()
    mock = run_function(stack_program, project="hastack", stack="bench", config=generated_config(apps))
    program_seconds = time.perf_counter() - started
    views = views_from_records(mock.resources)
    config_path = ROOT / "policy" / "config" / "prod.json"
    with PolicyPackProcess(ROOT / "policy", project="hastack", stack="bench", echo_logs=False) as pack:
        pack.configure(resolve_config(pack.info(), load_config_file(config_path), str(config_path)))
        times: list[float] = []
        diagnostics = 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            diagnostics = len(pack.analyze(views))
            times.append(time.perf_counter() - t0)
        peak = high_water_mib(pack.pid) if pack.pid is not None else None
    return {
        "apps": apps,
        "resources": len(views),
        "program_seconds": program_seconds,
        "median_seconds": statistics.median(times),
        "min_seconds": min(times),
        "max_seconds": max(times),
        "pack_peak_rss_mib": peak,
        "diagnostics": diagnostics,
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--apps", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    result = run(args.apps, args.repeat)
    peak = result["pack_peak_rss_mib"]
    print(
        f"policy_bench: {result['resources']} resources ({result['apps']} apps): policy evaluation median "
        f"{result['median_seconds']:.3f}s (min {result['min_seconds']:.3f}s, "
        f"max {result['max_seconds']:.3f}s, {args.repeat} runs; goal < 1s); program under mocks "
        f"{result['program_seconds']:.1f}s (not counted); pack peak RSS "
        f"{'n/a' if peak is None else f'{peak:.0f} MiB'}; {result['diagnostics']} diagnostics"
    )
    return result


if __name__ == "__main__":
    main()
