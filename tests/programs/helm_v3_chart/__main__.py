"""The namespace in code, the app from a local chart (helm.v3.Chart: objects templated by the provider's
`kubernetes:helm:template` invoke, then registered by the SDK as children of the chart)."""

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
k8s.helm.v3.Chart(
    "shop",
    k8s.helm.v3.LocalChartOpts(
        path=config.get("chart") or "../../data/charts/web",
        namespace=ns.metadata.name,
        values=config.get_object("values") or {},
    ),
)
