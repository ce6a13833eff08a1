"""A web app served by one replica, rolled out with Recreate, without probes: each a real outage."""

import pulumi_kubernetes as k8s

labels = {"app": "web"}
ns = k8s.core.v1.Namespace("shop", metadata={"labels": {"pod-security.kubernetes.io/enforce": "restricted"}})
pod_spec = {
    "automountServiceAccountToken": False,
    "priorityClassName": "serving-high",
    "securityContext": {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
    "containers": [
        {
            "name": "web",
            "image": "nginx:1.27",
            "ports": [{"name": "http", "containerPort": 8080}],
            "resources": {
                "requests": {"cpu": "100m", "memory": "64Mi", "ephemeral-storage": "64Mi"},
                "limits": {"memory": "128Mi", "ephemeral-storage": "512Mi"},
            },
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
            },
        }
    ],
}
deployment = k8s.apps.v1.Deployment(
    "web",
    metadata={"namespace": ns.metadata.name},
    spec={
        "replicas": 1,
        "strategy": {"type": "Recreate"},
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": pod_spec},
    },
)
k8s.core.v1.Service(
    "web",
    metadata={"namespace": ns.metadata.name},
    spec={"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
)
