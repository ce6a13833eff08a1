"""The peer: the same N apps written with cdk8s-plus-33, synthesised to YAML (run in a fresh process).

`cdk8s_peer.py N minimal`: Deployment, Service, Ingress with TLS, HPA (4 objects per app: what a
cdk8s-plus user writes for "an app"). `cdk8s_peer.py N equal`: the same kinds and count of objects
per app that hastack renders (9 per app + namespace and default-deny, 9N+2): a ServiceAccount, an
immutable ConfigMap and Secret fed to the container via envFrom, probes, security contexts, an
emptyDir, a PodDisruptionBudget (cdk8s-plus has no construct for it: the generated `k8s` L1 one),
and a NetworkPolicy allowing the ingress controller in and DNS out.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

MODES = ("minimal", "equal")


def _hpa(kplus: Any, chart: Any, i: int, deployment: Any) -> None:
    kplus.HorizontalPodAutoscaler(
        chart,
        f"app{i}-hpa",
        target=deployment,
        max_replicas=10,
        min_replicas=3,
        metrics=[kplus.Metric.resource_cpu(kplus.MetricTarget.average_utilization(70))],
    )


def _ingress(kplus: Any, chart: Any, i: int, service: Any, annotations: dict[str, str] | None) -> None:
    ingress = kplus.Ingress(
        chart, f"app{i}-ingress", metadata=None if annotations is None else {"annotations": annotations}
    )
    ingress.add_host_rule(f"app{i}.example.com", "/", kplus.IngressBackend.from_service(service))
    ingress.add_tls(
        [
            kplus.IngressTls(
                hosts=[f"app{i}.example.com"],
                secret=kplus.Secret.from_secret_name(chart, f"tls{i}", f"app{i}-tls"),
            )
        ]
    )


def _resources(cdk8s: Any, kplus: Any) -> Any:
    return kplus.ContainerResources(
        cpu=kplus.CpuResources(request=kplus.Cpu.millis(100), limit=kplus.Cpu.units(1)),
        memory=kplus.MemoryResources(request=cdk8s.Size.mebibytes(128), limit=cdk8s.Size.mebibytes(256)),
    )


def minimal_app(cdk8s: Any, kplus: Any, chart: Any, i: int) -> None:
    deployment = kplus.Deployment(
        chart,
        f"app{i}",
        containers=[
            kplus.ContainerProps(
                image=f"ghcr.io/acme/app{i}@sha256:" + f"{i:064x}",
                port_number=8080,
                resources=_resources(cdk8s, kplus),
            )
        ],
    )
    service = deployment.expose_via_service(ports=[kplus.ServicePort(port=80, target_port=8080)])
    _ingress(kplus, chart, i, service, None)
    _hpa(kplus, chart, i, deployment)


def equal_app(cdk8s: Any, kplus: Any, chart: Any, i: int) -> None:
    name = f"app{i}"
    labels = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/managed-by": "cdk8s",
        "app.kubernetes.io/part-of": "hastack",
    }
    meta: dict[str, Any] = {"labels": labels}
    account = kplus.ServiceAccount(chart, f"{name}-sa", metadata=meta, automount_token=False)
    config = kplus.ConfigMap(chart, f"{name}-config", metadata=meta, immutable=True, data={})
    secret = kplus.Secret(
        chart, f"{name}-secret", metadata=meta, immutable=True, string_data={"TOKEN": "<redacted>"}
    )
    probe = {"failure_threshold": 3, "period_seconds": cdk8s.Duration.seconds(10)}
    tmp = kplus.Volume.from_empty_dir(chart, f"{name}-tmp", "tmp", size_limit=cdk8s.Size.mebibytes(64))
    deployment = kplus.Deployment(
        chart,
        name,
        metadata=meta,
        pod_metadata={"labels": labels, "annotations": {"hastack.dev/config-checksum": f"{i:064x}"}},
        service_account=account,
        automount_service_account_token=False,
        enable_service_links=False,
        min_ready=cdk8s.Duration.seconds(5),
        progress_deadline=cdk8s.Duration.seconds(600),
        revision_history_limit=5,
        termination_grace_period=cdk8s.Duration.seconds(45),
        strategy=kplus.DeploymentStrategy.rolling_update(
            max_surge=kplus.PercentOrAbsolute.percent(25), max_unavailable=kplus.PercentOrAbsolute.absolute(0)
        ),
        security_context=kplus.PodSecurityContextProps(
            ensure_non_root=True, fs_group=10001, group=10001, user=10001
        ),
        containers=[
            kplus.ContainerProps(
                name=name,
                image=f"ghcr.io/acme/{name}@sha256:" + f"{i:064x}",
                port_number=8080,
                resources=_resources(cdk8s, kplus),
                env_from=[kplus.Env.from_config_map(config), kplus.Env.from_secret(secret)],
                liveness=kplus.Probe.from_http_get("/livez", **probe),
                readiness=kplus.Probe.from_http_get("/readyz", **probe),
                startup=kplus.Probe.from_http_get("/readyz", **{**probe, "failure_threshold": 30}),
                security_context=kplus.ContainerSecurityContextProps(
                    allow_privilege_escalation=False,
                    privileged=False,
                    read_only_root_filesystem=True,
                    ensure_non_root=True,
                    user=10001,
                    group=10001,
                ),
                volume_mounts=[kplus.VolumeMount(path="/tmp", volume=tmp)],
            )
        ],
    )
    for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname"):
        deployment.scheduling.spread(topology=kplus.Topology.custom(key))
    service = deployment.expose_via_service(ports=[kplus.ServicePort(port=80, target_port=8080, name="http")])
    _ingress(
        kplus,
        chart,
        i,
        service,
        {
            "cert-manager.io/cluster-issuer": "le",
            "nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
            "nginx.ingress.kubernetes.io/ssl-redirect": "true",
        },
    )
    _hpa(kplus, chart, i, deployment)
    kplus.k8s.KubePodDisruptionBudget(
        chart,
        f"{name}-pdb",
        metadata=meta,
        spec=kplus.k8s.PodDisruptionBudgetSpec(
            max_unavailable=kplus.k8s.IntOrString.from_number(1),
            selector=kplus.k8s.LabelSelector(match_labels={"app.kubernetes.io/name": name}),
            unhealthy_pod_eviction_policy="AlwaysAllow",
        ),
    )
    policy = kplus.NetworkPolicy(chart, f"{name}-netpol", metadata=meta, selector=deployment)
    policy.add_ingress_rule(
        kplus.Namespaces.select(chart, f"{name}-ingress-ns", names=["ingress-nginx"]),
        [kplus.NetworkPolicyPort.tcp(8080)],
    )
    dns = kplus.Pods.select(
        chart,
        f"{name}-dns",
        labels={"k8s-app": "kube-dns"},
        namespaces=kplus.Namespaces.select(chart, f"{name}-dns-ns", names=["kube-system"]),
    )
    policy.add_egress_rule(dns, [kplus.NetworkPolicyPort.udp(53), kplus.NetworkPolicyPort.tcp(53)])


def main() -> None:
    count, mode = int(sys.argv[1]), (sys.argv[2] if len(sys.argv) > 2 else "minimal")
    if mode not in MODES:
        raise SystemExit(f"cdk8s_peer.py: mode {mode!r} is not one of {', '.join(MODES)}")
    started = time.perf_counter()
    import cdk8s
    import cdk8s_plus_33 as kplus

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks.measure import cpu_seconds, peak_mib

    imported = time.perf_counter()
    app = cdk8s.App()
    chart = cdk8s.Chart(app, "bench", namespace="bench")
    if mode == "equal":  # hastack's two stack-level objects: the namespace and its default-deny policy
        kplus.Namespace(chart, "ns", metadata={"name": "bench"})
        kplus.NetworkPolicy(
            chart,
            "default-deny",
            ingress=kplus.NetworkPolicyTraffic(default=kplus.NetworkPolicyTrafficDefault.DENY),
            egress=kplus.NetworkPolicyTraffic(default=kplus.NetworkPolicyTrafficDefault.DENY),
        )
    build = equal_app if mode == "equal" else minimal_app
    for i in range(count):
        build(cdk8s, kplus, chart, i)
    documents = app.synth_yaml()
    done = time.perf_counter()
    objects = documents.count("\nkind: ") + (1 if documents.startswith("kind: ") else 0)
    print(
        json.dumps(
            {
                "work_s": done - imported,
                "total_s": done - started,
                "cpu_s": cpu_seconds(),
                "objects": objects,
                "bytes": len(documents),
                "peak_mib": peak_mib(),
            }
        )
    )


if __name__ == "__main__":
    main()
