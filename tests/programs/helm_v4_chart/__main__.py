"""The namespace in code, the app from a local chart directory or packaged `.tgz` (config `chart`)
through helm.v4.Chart: a remote component, whose objects the kubernetes provider templates and
registers as the chart's children."""

import pulumi
import pulumi_kubernetes as k8s

config = pulumi.Config()
ns = k8s.core.v1.Namespace(
    "shop", metadata={"name": "shop", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}
)
k8s.networking.v1.NetworkPolicy(
    "default-deny",
    metadata={"namespace": ns.metadata.name},
    spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
)
chart = k8s.helm.v4.Chart(
    "shop",
    chart=config.get("chart") or "../../data/charts/web",
    namespace=ns.metadata.name,
    values=config.get_object("values") or {},
)
pulumi.export("chartResources", chart.resources.apply(len))
