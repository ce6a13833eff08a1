"""Policy evaluation time over a generated 100-app stack (~1,000 resources).

The real program runs once under mocks on the same generated prod config as the render benchmark
(not timed); then the pack, started as the engine starts it, evaluates the stack over the analyzer
protocol (Analyze per resource + AnalyzeStack; then again with the Remediate call the engine makes
before each Analyze) several times with the strict prod config. Reports medians, the pack
process's start-up CPU and peak RSS, the CPU this harness's own Python client spends, and the floor
beside it: the same requests over the same protocol to a pack (hastack's layer included) that
evaluates nothing, i.e. the per-call cost paid before any rule runs.
`python -m benchmarks.policy_bench [--apps 100] [--repeat 5]`; `main()` is what `make bench` calls.
"""

from __future__ import annotations

import argparse
import os
import runpy
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.hastack_render import generated_config
from benchmarks.measure import high_water_mib, process_cpu_seconds
from hastack.pulumi_internals import decode_once as decode_once_layer
from hastack_policy.pack import current_virtualenv, policy_yaml
from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.dev.mockrun import run_function
from hastack_tools.dev.pack_client import (
    PolicyPackProcess,
    load_config_file,
    requests,
    resolve_config,
    views_from_records,
)

PACK = REPO_ROOT / "policy"


def stack_program() -> None:
    """The real program (`__main__.py`), on the config `generated_config` hands it."""
    runpy.run_path(str(REPO_ROOT / "__main__.py"), run_name="__main__")


EMPTY_PACK_ENTRY = """\
from pulumi_policy import EnforcementLevel, PolicyPack, StackValidationPolicy

from hastack.pulumi_internals import decode_once as decode_once_layer

decode_once_layer.install()
PolicyPack(
    name="floor",
    policies=[
        StackValidationPolicy(
            name="nothing",
            description="pulumi-policy needs one policy; disabled, it is never run",
            validate=lambda args, report: None,
            enforcement_level=EnforcementLevel.DISABLED,
        )
    ],
)
"""
"""The floor: pulumi-policy with hastack's layer serving the same requests over the same protocol,
evaluating nothing."""


def write_empty_pack(folder: Path) -> Path:
    """A pack folder whose one policy is disabled, run with this interpreter's venv."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "PulumiPolicy.yaml").write_text(policy_yaml(current_virtualenv()))
    (folder / "__main__.py").write_text(EMPTY_PACK_ENTRY)
    return folder


def _evaluate(pack_dir: Path, views: list[Any], repeat: int, decode_once: bool) -> dict[str, Any]:
    """`repeat` evaluations by one pack process: wall per evaluation (requests built beforehand, as
    the engine builds them) and the pack process's own CPU time per evaluation."""
    config_path = REPO_ROOT / "policy" / "config" / "prod.json"
    saved = os.environ.get(decode_once_layer.SWITCH)
    os.environ[decode_once_layer.SWITCH] = "1" if decode_once else "0"  # the pack process inherits it
    try:
        pack = PolicyPackProcess(pack_dir, project="hastack", stack="bench", echo_logs=False)
        pack.start()
    finally:
        if saved is None:
            del os.environ[decode_once_layer.SWITCH]
        else:
            os.environ[decode_once_layer.SWITCH] = saved
    try:
        if pack_dir == PACK:
            pack.configure(resolve_config(pack.info(), load_config_file(config_path), str(config_path)))
        each, stack = requests(views)
        assert pack.pid is not None
        start_cpu = process_cpu_seconds(pack.pid)  # start-up: imports, catalog, GetAnalyzerInfo, Configure
        walls: list[float] = []
        cpus: list[float] = []
        diagnostics = with_remediate = 0
        clients: list[float] = []
        engine_walls: list[float] = []
        engine_cpus: list[float] = []
        for _ in range(repeat):
            cpu0, client0, t0 = process_cpu_seconds(pack.pid), time.process_time(), time.perf_counter()
            diagnostics = len(pack.send(each, stack))
            walls.append(time.perf_counter() - t0)
            clients.append(time.process_time() - client0)
            cpus.append(process_cpu_seconds(pack.pid) - cpu0)
            cpu0, t0 = process_cpu_seconds(pack.pid), time.perf_counter()
            with_remediate = len(pack.send(each, stack, remediate=True))
            engine_walls.append(time.perf_counter() - t0)
            engine_cpus.append(process_cpu_seconds(pack.pid) - cpu0)
        peak = high_water_mib(pack.pid)
    finally:
        pack.close()
    return {
        "median_seconds": statistics.median(walls),
        "min_seconds": min(walls),
        "max_seconds": max(walls),
        "pack_cpu_median_seconds": statistics.median(cpus),
        "pack_start_cpu_seconds": start_cpu,
        "client_cpu_median_seconds": statistics.median(clients),
        "wall_less_client_median_seconds": statistics.median(
            wall - client for wall, client in zip(walls, clients, strict=True)
        ),
        "with_remediate_median_seconds": statistics.median(engine_walls),
        "with_remediate_pack_cpu_median_seconds": statistics.median(engine_cpus),
        "with_remediate_diagnostics": with_remediate,
        "pack_peak_rss_mib": peak,
        "diagnostics": diagnostics,
    }


def run(apps: int = 100, repeat: int = 5) -> dict[str, Any]:
    """Median policy-evaluation seconds over `repeat` evaluations of a `apps`-app stack, with the
    decode-once layer, with pulumi-policy's own path (HASTACK_POLICY_DECODE_ONCE=0) and for the floor
    (the same requests answered by a pack that evaluates nothing)."""
    started = time.perf_counter()
    mock = run_function(stack_program, project="hastack", stack="bench", config=generated_config(apps))
    program_seconds = time.perf_counter() - started
    views = views_from_records(mock.resources)
    t0 = time.perf_counter()
    requests(views)
    build_seconds = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="hastack-floor-pack-") as folder:
        floor = _evaluate(write_empty_pack(Path(folder)), views, repeat, decode_once=True)
    ours = _evaluate(PACK, views, repeat, decode_once=True)
    stock = _evaluate(PACK, views, repeat, decode_once=False)
    return {
        "apps": apps,
        "resources": len(views),
        "program_seconds": program_seconds,
        "request_build_seconds": build_seconds,
        **ours,
        "stock": stock,
        "floor": floor,
        "over_floor_seconds": ours["median_seconds"] - floor["median_seconds"],
        "speedup_wall": stock["median_seconds"] / ours["median_seconds"],
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
        f"{'n/a' if peak is None else f'{peak:.0f} MiB'}; {result['diagnostics']} diagnostics\n"
        f"policy_bench: pack CPU per evaluation {result['pack_cpu_median_seconds']:.3f}s (start-up "
        f"{result['pack_start_cpu_seconds']:.2f}s, once per engine run); requests built "
        f"beforehand in {result['request_build_seconds']:.2f}s (the engine's part); pulumi-policy's own "
        f"path (HASTACK_POLICY_DECODE_ONCE=0): median {result['stock']['median_seconds']:.3f}s, pack CPU "
        f"{result['stock']['pack_cpu_median_seconds']:.3f}s (x{result['speedup_wall']:.1f})\n"
        f"policy_bench: this harness's Python gRPC client (the engine's is Go) spent "
        f"{result['client_cpu_median_seconds']:.3f}s CPU per evaluation; wall less that: "
        f"{result['wall_less_client_median_seconds']:.3f}s\n"
        f"policy_bench: with the Remediate call the engine makes before each Analyze: median "
        f"{result['with_remediate_median_seconds']:.3f}s, pack CPU "
        f"{result['with_remediate_pack_cpu_median_seconds']:.3f}s; pulumi-policy's own path "
        f"{result['stock']['with_remediate_median_seconds']:.3f}s, pack CPU "
        f"{result['stock']['with_remediate_pack_cpu_median_seconds']:.3f}s\n"
        f"policy_bench: floor (same requests, same protocol, a pack evaluating nothing): median "
        f"{result['floor']['median_seconds']:.3f}s, "
        f"pack CPU {result['floor']['pack_cpu_median_seconds']:.3f}s; "
        f"evaluation over the floor {result['over_floor_seconds']:.3f}s"
    )
    return result


if __name__ == "__main__":
    main()
