"""A chart shaped after podinfo's: `kubeVersion: ">=1.23.0-0"` in Chart.yaml and a
PodDisruptionBudget whose apiVersion the template picks from `.Capabilities.KubeVersion`. Rendered
for Helm's clusterless default (v1.20.0) the chart is refused, and an older floor would render
`policy/v1beta1`, which no supported cluster serves; the gate renders it for the local control
plane's version (`--kube-version` to choose another) and says which."""

import pulumi_kubernetes as k8s

ns = k8s.core.v1.Namespace(
    "podinfo", metadata={"name": "podinfo", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}
)
k8s.helm.v4.Chart(
    "podinfo",
    chart="./chart",
    namespace=ns.metadata.name,
    values={"hpa": {"enabled": True, "minReplicas": 2, "maxReplicas": 4}},
)
