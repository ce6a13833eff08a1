"""The usual way to run one database in the cluster: a StatefulSet with volumeClaimTemplates and a
headless Service. A stock PostgreSQL cannot run 3 replicas (three separate databases), so it
declares the single-writer exception instead of being told to scale."""

import pulumi_kubernetes as k8s

LABELS = {"app.kubernetes.io/name": "postgres", "app.kubernetes.io/instance": "orders"}
NAMESPACE = "orders"
meta = {"namespace": NAMESPACE, "labels": LABELS}

k8s.core.v1.Namespace(
    "orders", metadata={"name": NAMESPACE, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}
)
probe = {"exec": {"command": ["pg_isready", "-U", "postgres"]}, "periodSeconds": 10}
k8s.apps.v1.StatefulSet(
    "postgres",
    metadata={
        **meta,
        "name": "postgres",
        "annotations": {"hastack.dev/single-writer": "stock PostgreSQL, no replication configured"},
    },
    spec={
        "serviceName": "postgres",
        "replicas": 1,
        "selector": {"matchLabels": LABELS},
        "template": {
            "metadata": {"labels": LABELS},
            "spec": {
                "automountServiceAccountToken": False,
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 70000,
                    "fsGroup": 70000,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [
                    {
                        "name": "postgres",
                        "image": "postgres@sha256:" + "7c" * 32,
                        "ports": [{"name": "postgres", "containerPort": 5432}],
                        "env": [{"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"}],
                        "readinessProbe": probe,
                        "livenessProbe": {"tcpSocket": {"port": "postgres"}, "periodSeconds": 30},
                        "startupProbe": {**probe, "failureThreshold": 60},
                        "resources": {
                            "requests": {"cpu": "500m", "memory": "1Gi"},
                            "limits": {"memory": "2Gi"},
                        },
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]},
                        },
                        "volumeMounts": [
                            {"name": "data", "mountPath": "/var/lib/postgresql/data"},
                            {"name": "run", "mountPath": "/var/run/postgresql"},
                        ],
                    }
                ],
                "volumes": [{"name": "run", "emptyDir": {}}],
            },
        },
        "volumeClaimTemplates": [
            {
                "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "50Gi"}}},
            }
        ],
    },
)
k8s.core.v1.Service(
    "postgres",
    metadata={**meta, "name": "postgres"},
    spec={"clusterIP": "None", "selector": LABELS, "ports": [{"port": 5432, "targetPort": "postgres"}]},
)
k8s.networking.v1.NetworkPolicy(
    "default-deny",
    metadata={"namespace": NAMESPACE},
    spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
)
k8s.networking.v1.NetworkPolicy(
    "postgres-from-shop",
    metadata=meta,
    spec={
        "podSelector": {"matchLabels": LABELS},
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}}],
                "ports": [{"port": 5432}],
            }
        ],
    },
)
