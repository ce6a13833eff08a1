"""One timed render of N generated apps through the real program under mocks (run in a fresh process)."""

from __future__ import annotations

import json
import runpy
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def generated_config(count: int) -> dict[str, str]:
    """N prod-like apps: HPA, PDB, Ingress with TLS, network policy, one generated secret each."""
    apps: list[dict[str, Any]] = [
        {
            "name": f"app{i}",
            "image": f"ghcr.io/acme/app{i}@sha256:" + f"{i:064x}",
            "port": 8080,
            "autoscaling": {"minReplicas": 3, "maxReplicas": 10, "targetCPUUtilization": 70},
            "ingress": {"hosts": [f"app{i}.example.com"]},
            "generatedSecrets": ["TOKEN"],
        }
        for i in range(count)
    ]
    raw = {
        "environment": "prod",
        "namespace": "bench",
        "ingress": {"className": "nginx", "tls": {"mode": "cert-manager", "issuer": "le"}},
        "apps": apps,
    }
    return {f"hastack:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}


def main() -> None:
    count = int(sys.argv[1])
    started = time.perf_counter()
    from benchmarks.measure import peak_mib
    from hastack_tools.dev.mockrun import run_function
    from hastack_tools.dev.render import render_groups

    imported = time.perf_counter()
    run = run_function(
        lambda: runpy.run_path(str(REPO / "__main__.py"), run_name="__main__"),
        project="hastack",
        stack="bench",
        config=generated_config(count),
    )
    manifests = sum(len(items) for items in render_groups(run).values())
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "work_s": done - imported,
                "total_s": done - started,
                "objects": manifests,
                "peak_mib": peak_mib(),
            }
        )
    )


if __name__ == "__main__":
    main()
