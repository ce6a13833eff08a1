"""helm.v3.Release installs the chart inside the provider: no object of it is ever registered, so
neither the engine's policy run nor the gate can judge them. The gate says so by name (exit 2)
rather than judging the program on the rest."""

import pulumi
import pulumi_kubernetes as k8s

release = k8s.helm.v3.Release(
    "ingress-nginx",
    chart="ingress-nginx",
    version="4.11.3",
    namespace="ingress-nginx",
    create_namespace=True,
    repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo="https://kubernetes.github.io/ingress-nginx"),
    values={"controller": {"replicaCount": 2, "service": {"type": "LoadBalancer"}}},
)
pulumi.export("status", release.status)
