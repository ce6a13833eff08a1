"""Policy evaluation time over a generated 100-app stack (~1,000 resources).

The program runs once under mocks (not timed); then the pack, started as the engine starts it,
evaluates the stack over the analyzer protocol (Analyze per resource + AnalyzeStack) several times
with the strict prod config. Reports the median, and the pack process's peak RSS.
`python -m benchmarks.policy_bench [--apps 100] [--repeat 5]`; `main()` is what `make bench` calls.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hastack_tools.analyzer import PolicyPackProcess, load_config_file, resolve_config, views_from_records
from hastack_tools.mockrun import run_function

ROOT = Path(__file__).resolve().parents[1]
DIGEST = "sha256:" + "0123456789abcdef" * 4


def stack_program(apps: int) -> None:
    """`apps` compliant apps, 10 per namespace, each with the resources hastack creates."""
    import pulumi_kubernetes as k8s

    namespaces: dict[int, Any] = {}
    for i in range(apps):
        group = i // 10
        if group not in namespaces:
            ns = k8s.core.v1.Namespace(
                f"team{group}",
                metadata={
                    "name": f"team{group}",
                    "labels": {"pod-security.kubernetes.io/enforce": "restricted"},
                },
            )
            k8s.networking.v1.NetworkPolicy(
                f"team{group}-default-deny",
                metadata={"namespace": ns.metadata.name},
                spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            )
            namespaces[group] = ns
        name = f"app{i}"
        labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name}
        meta = {"namespace": namespaces[group].metadata.name, "labels": labels}
        probe = {"httpGet": {"path": "/healthz", "port": "http"}}
        config = k8s.core.v1.ConfigMap(name, metadata=meta, data={"LOG_LEVEL": "info"})
        secret = k8s.core.v1.Secret(name, metadata=meta, string_data={"SESSION_SECRET": "x"})
        account = k8s.core.v1.ServiceAccount(name, metadata=meta, automount_service_account_token=False)
        deployment = k8s.apps.v1.Deployment(
            name,
            metadata=meta,
            spec={
                "selector": {"matchLabels": labels},
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"},
                },
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "serviceAccountName": account.metadata.name,
                        "automountServiceAccountToken": False,
                        "securityContext": {
                            "runAsNonRoot": True,
                            "runAsUser": 10001,
                            "seccompProfile": {"type": "RuntimeDefault"},
                        },
                        "topologySpreadConstraints": [
                            {
                                "topologyKey": key,
                                "maxSkew": 1,
                                "whenUnsatisfiable": w,
                                "labelSelector": {"matchLabels": labels},
                            }
                            for key, w in (
                                ("topology.kubernetes.io/zone", "DoNotSchedule"),
                                ("kubernetes.io/hostname", "ScheduleAnyway"),
                            )
                        ],
                        "containers": [
                            {
                                "name": name,
                                "image": f"ghcr.io/acme/{name}@{DIGEST}",
                                "ports": [{"name": "http", "containerPort": 8080}],
                                "envFrom": [
                                    {"configMapRef": {"name": config.metadata.name}},
                                    {"secretRef": {"name": secret.metadata.name}},
                                ],
                                "readinessProbe": probe,
                                "livenessProbe": {**probe, "periodSeconds": 20},
                                "startupProbe": {**probe, "failureThreshold": 30},
                                "resources": {
                                    "requests": {"cpu": "100m", "memory": "128Mi"},
                                    "limits": {"memory": "256Mi"},
                                },
                                "securityContext": {
                                    "allowPrivilegeEscalation": False,
                                    "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]},
                                },
                            }
                        ],
                    },
                },
            },
        )
        service = k8s.core.v1.Service(
            name,
            metadata=meta,
            spec={"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
        )
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            name,
            metadata=meta,
            spec={
                "scaleTargetRef": {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": deployment.metadata.name,
                },
                "minReplicas": 3,
                "maxReplicas": 10,
            },
        )
        k8s.policy.v1.PodDisruptionBudget(
            name,
            metadata=meta,
            spec={
                "maxUnavailable": 1,
                "unhealthyPodEvictionPolicy": "AlwaysAllow",
                "selector": {"matchLabels": labels},
            },
        )
        k8s.networking.v1.NetworkPolicy(
            name,
            metadata=meta,
            spec={"podSelector": {"matchLabels": labels}, "ingress": [{"ports": [{"port": "http"}]}]},
        )
        host = f"{name}.example.com"
        k8s.networking.v1.Ingress(
            name,
            metadata={**meta, "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt-prod"}},
            spec={
                "ingressClassName": "nginx",
                "tls": [{"hosts": [host], "secretName": f"{name}-tls"}],
                "rules": [
                    {
                        "host": host,
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {
                                        "service": {"name": service.metadata.name, "port": {"name": "http"}}
                                    },
                                }
                            ]
                        },
                    }
                ],
            },
        )


def _peak_rss_mib(pid: int | None) -> float | None:
    """VmHWM of a process from /proc (Linux), in MiB."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run(apps: int = 100, repeat: int = 5) -> dict[str, Any]:
    """Median policy-evaluation seconds over `repeat` evaluations of a `apps`-app stack."""
    started = time.perf_counter()
    mock = run_function(lambda: stack_program(apps), project="bench", stack="ci")
    program_seconds = time.perf_counter() - started
    views = views_from_records(mock.resources)
    config_path = ROOT / "policy" / "config" / "prod.json"
    with PolicyPackProcess(ROOT / "policy", project="bench", stack="ci", echo_logs=False) as pack:
        pack.configure(resolve_config(pack.info(), load_config_file(config_path), str(config_path)))
        times: list[float] = []
        diagnostics = 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            diagnostics = len(pack.analyze(views))
            times.append(time.perf_counter() - t0)
        peak = _peak_rss_mib(pack.pid)
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
