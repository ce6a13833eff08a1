"""Runs a reproducer's `stock` and `changed` variants in interleaved fresh processes and prints
medians: what the markdown beside it quotes."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

from hastack_tools.common.checkout import REPO_ROOT


def compare(script: Path, args: list[str], repeats: int = 3) -> dict[str, dict[str, float]]:
    """`python <script> --once <variant> <args>` per run; each run prints one JSON object of seconds."""
    runs: dict[str, list[dict[str, float]]] = {"stock": [], "changed": []}
    for round_ in range(repeats):
        for variant in ("stock", "changed") if round_ % 2 == 0 else ("changed", "stock"):
            done = subprocess.run(
                [sys.executable, str(script), "--once", variant, *args],
                check=True,
                capture_output=True,
                text=True,
                cwd=REPO_ROOT,
                env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin", "HASTACK_SDK_PATCHES": "0"},
            )
            runs[variant].append(json.loads(done.stdout.strip().splitlines()[-1]))
    medians = {
        variant: {key: statistics.median(r[key] for r in found) for key in found[0]}
        for variant, found in runs.items()
    }
    for variant, values in medians.items():
        shown = "  ".join(f"{key} {value:.3f}" for key, value in values.items())
        print(f"{script.stem} {' '.join(args)}  {variant:<8} {shown}  (median of {repeats})")
    for key, stock in medians["stock"].items():
        if medians["changed"][key]:
            print(f"{script.stem}  {key}: stock / changed = x{stock / medians['changed'][key]:.2f}")
    return medians
