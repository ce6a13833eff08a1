"""A managed cluster and an app on it, as cloud examples write it: the cluster's version comes from
the cloud's versions lookup, the kubernetes provider from the cluster's `kube_configs`. Neither is
known before a deploy; under `pulumi preview` (and the gate) the kubeconfig is unknown and the app
is still judged."""

import cloudk8s
import pulumi
import pulumi_kubernetes as k8s

latest = cloudk8s.get_kubernetes_versions_output(version_prefix="1.34.").latest_version
cluster = cloudk8s.KubernetesCluster("do-cluster", region="fra1", version=latest, node_count=3)
kubeconfig = cluster.kube_configs.apply(lambda configs: configs[0]["raw_config"])
provider = k8s.Provider("do-k8s", kubeconfig=kubeconfig)

labels = {"app.kubernetes.io/name": "hello"}
opts = pulumi.ResourceOptions(provider=provider)
ns = k8s.core.v1.Namespace("apps", metadata={"name": "apps"}, opts=opts)
k8s.apps.v1.Deployment(
    "hello",
    metadata={"namespace": "apps"},
    spec={
        "replicas": 3,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 1001,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [
                    {
                        "name": "hello",
                        "image": "ghcr.io/acme/hello:2.3.1",
                        "ports": [{"name": "http", "containerPort": 8080}],
                        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
                        "livenessProbe": {"httpGet": {"path": "/live", "port": "http"}},
                        "resources": {
                            "requests": {"cpu": "50m", "memory": "64Mi"},
                            "limits": {"memory": "128Mi"},
                        },
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]},
                        },
                    }
                ],
            },
        },
    },
    opts=opts,
)
k8s.core.v1.Service(
    "hello",
    metadata={"namespace": "apps"},
    spec={"selector": labels, "ports": [{"port": 80, "targetPort": "http"}]},
    opts=opts,
)
k8s.policy.v1.PodDisruptionBudget(
    "hello",
    metadata={"namespace": "apps"},
    spec={"maxUnavailable": 1, "selector": {"matchLabels": labels}},
    opts=opts,
)
pulumi.export("endpoint", cluster.endpoint)
