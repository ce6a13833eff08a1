"""Many self-hosted apps are deployed like this (one pod, a data volume, the Deployment defaults):
it works until the first rollout puts the new pod on another node, which then waits forever for the
volume the old pod still holds."""

import pulumi_kubernetes as k8s

labels = {"app.kubernetes.io/name": "status"}
ns = k8s.core.v1.Namespace("status", metadata={"name": "status"})
data = k8s.core.v1.PersistentVolumeClaim(
    "status-data",
    metadata={"namespace": ns.metadata.name},
    spec={
        "accessModes": ["ReadWriteOnce"],
        "storageClassName": "gp3",
        "resources": {"requests": {"storage": "2Gi"}},
    },
)
k8s.apps.v1.Deployment(
    "status",
    metadata={"namespace": ns.metadata.name, "labels": labels},
    spec={
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "containers": [
                    {
                        "name": "status",
                        "image": "louislam/uptime-kuma:1.23.16",
                        "ports": [{"name": "http", "containerPort": 3001}],
                        "volumeMounts": [{"name": "data", "mountPath": "/app/data"}],
                    }
                ],
                "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": data.metadata.name}}],
            },
        },
    },
)
k8s.core.v1.Service(
    "status",
    metadata={"namespace": ns.metadata.name},
    spec={"selector": labels, "ports": [{"port": 80, "targetPort": "http"}]},
)
