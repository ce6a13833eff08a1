"""The peer: the same N apps written with cdk8s-plus-33 (Deployment, Service, Ingress with TLS, HPA)."""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    count = int(sys.argv[1])
    started = time.perf_counter()
    import cdk8s
    import cdk8s_plus_33 as kplus

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))
    from benchmarks.measure import peak_mib

    imported = time.perf_counter()
    app = cdk8s.App()
    chart = cdk8s.Chart(app, "bench", namespace="bench")
    for i in range(count):
        deployment = kplus.Deployment(
            chart,
            f"app{i}",
            containers=[
                kplus.ContainerProps(
                    image=f"ghcr.io/acme/app{i}@sha256:" + f"{i:064x}",
                    port_number=8080,
                    resources=kplus.ContainerResources(
                        cpu=kplus.CpuResources(request=kplus.Cpu.millis(100), limit=kplus.Cpu.units(1)),
                        memory=kplus.MemoryResources(
                            request=cdk8s.Size.mebibytes(128), limit=cdk8s.Size.mebibytes(256)
                        ),
                    ),
                )
            ],
        )
        service = deployment.expose_via_service(ports=[kplus.ServicePort(port=80, target_port=8080)])
        ingress = kplus.Ingress(chart, f"app{i}-ingress")
        ingress.add_host_rule(f"app{i}.example.com", "/", kplus.IngressBackend.from_service(service))
        ingress.add_tls(
            [
                kplus.IngressTls(
                    hosts=[f"app{i}.example.com"],
                    secret=kplus.Secret.from_secret_name(chart, f"tls{i}", "tls"),
                )
            ]
        )
        kplus.HorizontalPodAutoscaler(
            chart,
            f"app{i}-hpa",
            target=deployment,
            max_replicas=10,
            min_replicas=3,
            metrics=[kplus.Metric.resource_cpu(kplus.MetricTarget.average_utilization(70))],
        )
    documents = app.synth_yaml()
    done = time.perf_counter()
    objects = documents.count("\nkind: ") + (1 if documents.startswith("kind: ") else 0)
    print(
        json.dumps(
            {"work_s": done - imported, "total_s": done - started, "objects": objects, "peak_mib": peak_mib()}
        )
    )


if __name__ == "__main__":
    main()
