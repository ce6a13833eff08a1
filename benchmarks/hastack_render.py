"""One timed render of N generated apps through the real program under mocks, to YAML (a fresh process).

The manifests are serialised as `make render` writes them (the peer's `synth_yaml` does the same
work), but not written to disk.
"""

from __future__ import annotations

import json
import runpy
import sys
import time
from typing import Any

from hastack_tools.common.checkout import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT))


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
    from benchmarks.measure import cpu_seconds, peak_mib
    from hastack_tools.dev.mockrun import run_function
    from hastack_tools.dev.render import dump_manifests, render_groups

    imported = time.perf_counter()
    run = run_function(
        lambda: runpy.run_path(str(REPO_ROOT / "__main__.py"), run_name="__main__"),
        project="hastack",
        stack="bench",
        config=generated_config(count),
    )
    groups = render_groups(run)
    documents = "".join(dump_manifests(items) for items in groups.values())
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "work_s": done - imported,
                "total_s": done - started,
                "cpu_s": cpu_seconds(),
                "objects": sum(len(items) for items in groups.values()),
                "bytes": len(documents),
                "peak_mib": peak_mib(),
            }
        )
    )


if __name__ == "__main__":
    main()
