"""A gRPC service written the way public microservice demos write it, and correct: a release tag
(no digest), UID 1000 with runAsNonRoot, the same gRPC health check for liveness and readiness, no
startup probe, an HPA owning the replica count with the rollout's maxUnavailable at 1, a budget
without unhealthyPodEvictionPolicy. Under hastack's prod profile each of these is a finding; for a
program that is not hastack's own they are advice, and the messages print numbers as the manifest
has them (1, never 1.0 or None)."""

import pulumi_kubernetes as k8s

NS = "catalog"
REGISTRY = "us-central1-docker.pkg.dev/google-samples/microservices-demo"
labels = {"app": "productcatalogservice"}
ns = k8s.core.v1.Namespace(
    NS, metadata={"name": NS, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}
)
grpc_probe = {"grpc": {"port": 3550}, "periodSeconds": 5}
deployment = k8s.apps.v1.Deployment(
    "productcatalogservice",
    metadata={"namespace": NS, "name": "productcatalogservice"},
    spec={
        "selector": {"matchLabels": labels},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "automountServiceAccountToken": False,
                "terminationGracePeriodSeconds": 5,
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 1000,
                    "runAsGroup": 1000,
                    "fsGroup": 1000,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "topologySpreadConstraints": [
                    {
                        "maxSkew": 1,
                        "topologyKey": "kubernetes.io/hostname",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": labels},
                    }
                ],
                "containers": [
                    {
                        "name": "server",
                        "image": f"{REGISTRY}/productcatalogservice:v0.10.2",
                        "ports": [{"containerPort": 3550}],
                        "env": [{"name": "PORT", "value": "3550"}],
                        "readinessProbe": grpc_probe,
                        "livenessProbe": grpc_probe,
                        "resources": {
                            "requests": {"cpu": "100m", "memory": "64Mi"},
                            "limits": {"cpu": "200m", "memory": "128Mi"},
                        },
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "privileged": False,
                            "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]},
                        },
                    }
                ],
            },
        },
    },
)
k8s.core.v1.Service(
    "productcatalogservice",
    metadata={"namespace": NS, "name": "productcatalogservice"},
    spec={"selector": labels, "ports": [{"name": "grpc", "port": 3550, "targetPort": 3550}]},
)
k8s.autoscaling.v2.HorizontalPodAutoscaler(
    "productcatalogservice",
    metadata={"namespace": NS},
    spec={
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "productcatalogservice"},
        "minReplicas": 2,
        "maxReplicas": 6,
        "metrics": [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
            }
        ],
    },
)
k8s.policy.v1.PodDisruptionBudget(
    "productcatalogservice",
    metadata={"namespace": NS},
    spec={"minAvailable": 1, "selector": {"matchLabels": labels}},
)
