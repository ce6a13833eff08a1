"""Shaped like the EKS blueprints' sample apps: the AWS Load Balancer Controller terminates TLS with an
ACM certificate it finds by host (`spec.tls` lists the hosts, no secretName), the database is RDS
reached through an ExternalName Service, and the container declares no ports: the Service and the
probes use the number 8080. Every one of those is valid Kubernetes, and the gate must not object.
"""

import pulumi_kubernetes as k8s

LABELS = {"app.kubernetes.io/name": "shop"}
NAMESPACE = "shop"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop@sha256:" + "5e" * 32

k8s.core.v1.Namespace(
    "shop", metadata={"name": NAMESPACE, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}
)
meta = {"namespace": NAMESPACE, "labels": LABELS}
k8s.core.v1.Service(
    "orders-db",
    metadata={"name": "orders-db", "namespace": NAMESPACE},
    spec={"type": "ExternalName", "externalName": "orders.cluster-abc123.eu-west-1.rds.amazonaws.com"},
)
http_check = {"httpGet": {"path": "/health", "port": 8080}, "periodSeconds": 10}
shop = k8s.apps.v1.Deployment(
    "shop",
    metadata=meta,
    spec={
        "replicas": 3,
        "selector": {"matchLabels": LABELS},
        "strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
        "template": {
            "metadata": {"labels": LABELS},
            "spec": {
                "automountServiceAccountToken": False,
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 20000,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "topologySpreadConstraints": [
                    {
                        "topologyKey": "topology.kubernetes.io/zone",
                        "maxSkew": 1,
                        "whenUnsatisfiable": "DoNotSchedule",
                        "labelSelector": {"matchLabels": LABELS},
                    },
                    {
                        "topologyKey": "kubernetes.io/hostname",
                        "maxSkew": 1,
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": LABELS},
                    },
                ],
                "containers": [
                    {
                        "name": "shop",
                        "image": IMAGE,
                        "env": [{"name": "DB_HOST", "value": "orders-db"}],
                        "readinessProbe": http_check,
                        "livenessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 20},
                        "startupProbe": {**http_check, "failureThreshold": 30},
                        "resources": {
                            "requests": {"cpu": "250m", "memory": "256Mi"},
                            "limits": {"memory": "512Mi"},
                        },
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]},
                        },
                    }
                ],
            },
        },
    },
)
k8s.policy.v1.PodDisruptionBudget(
    "shop",
    metadata=meta,
    spec={
        "maxUnavailable": 1,
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
        "selector": {"matchLabels": LABELS},
    },
)
service = k8s.core.v1.Service(
    "shop", metadata=meta, spec={"selector": LABELS, "ports": [{"port": 80, "targetPort": 8080}]}
)
k8s.networking.v1.Ingress(
    "shop",
    metadata={
        **meta,
        "annotations": {
            "alb.ingress.kubernetes.io/scheme": "internet-facing",
            "alb.ingress.kubernetes.io/target-type": "ip",
            "alb.ingress.kubernetes.io/ssl-redirect": "443",
        },
    },
    spec={
        "ingressClassName": "alb",
        "tls": [{"hosts": ["shop.example.com"]}],
        "rules": [
            {
                "host": "shop.example.com",
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": service.metadata.name, "port": {"number": 80}}},
                        }
                    ]
                },
            }
        ],
    },
)
k8s.networking.v1.NetworkPolicy(
    "default-deny",
    metadata={"namespace": NAMESPACE},
    spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
)
k8s.networking.v1.NetworkPolicy(
    "shop-from-alb",
    metadata=meta,
    spec={
        "podSelector": {"matchLabels": LABELS},
        "policyTypes": ["Ingress"],
        "ingress": [{"ports": [{"port": 8080}]}],
    },
)
