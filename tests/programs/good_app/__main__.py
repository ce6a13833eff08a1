"""A compliant app written with raw pulumi-kubernetes resources (no hastack components).

The Deployment is auto-named: the HPA targets it through `deployment.metadata.name`, which the
gate must resolve from the provider-assigned name, as the engine would.
"""

import pulumi_kubernetes as k8s

LABELS = {"app.kubernetes.io/name": "shop", "app.kubernetes.io/instance": "shop"}
DIGEST = "sha256:" + "0123456789abcdef" * 4

ns = k8s.core.v1.Namespace(
    "shop", metadata={"name": "shop", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}
)
meta = {"namespace": ns.metadata.name, "labels": LABELS}
probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5}
spread = [
    {
        "topologyKey": "topology.kubernetes.io/zone",
        "maxSkew": 1,
        "whenUnsatisfiable": "DoNotSchedule",
        "minDomains": 3,
        "labelSelector": {"matchLabels": LABELS},
    },
    {
        "topologyKey": "kubernetes.io/hostname",
        "maxSkew": 1,
        "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": LABELS},
    },
]
deployment = k8s.apps.v1.Deployment(
    "shop",
    metadata=meta,
    spec={
        "selector": {"matchLabels": LABELS},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}},
        "template": {
            "metadata": {"labels": LABELS},
            "spec": {
                "automountServiceAccountToken": False,
                "priorityClassName": "serving-high",
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 10001,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "topologySpreadConstraints": spread,
                "containers": [
                    {
                        "name": "shop",
                        "image": f"ghcr.io/acme/shop@{DIGEST}",
                        "ports": [{"name": "http", "containerPort": 8080}],
                        "readinessProbe": probe,
                        "livenessProbe": {**probe, "httpGet": {"path": "/livez", "port": "http"}},
                        "startupProbe": {**probe, "failureThreshold": 30},
                        "resources": {
                            "requests": {"cpu": "100m", "memory": "128Mi", "ephemeral-storage": "64Mi"},
                            "limits": {"memory": "256Mi", "ephemeral-storage": "512Mi"},
                        },
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]},
                        },
                        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                    }
                ],
                "volumes": [{"name": "tmp", "emptyDir": {}}],
            },
        },
    },
)
k8s.autoscaling.v2.HorizontalPodAutoscaler(
    "shop",
    metadata=meta,
    spec={
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment.metadata.name},
        "minReplicas": 3,
        "maxReplicas": 9,
        "metrics": [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
            }
        ],
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
    "shop",
    metadata=meta,
    spec={"selector": LABELS, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
)
k8s.networking.v1.Ingress(
    "shop",
    metadata={**meta, "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt-prod"}},
    spec={
        "ingressClassName": "nginx",
        "tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
        "rules": [
            {
                "host": "shop.example.com",
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": service.metadata.name, "port": {"name": "http"}}},
                        }
                    ]
                },
            }
        ],
    },
)
k8s.networking.v1.NetworkPolicy(
    "default-deny",
    metadata={"namespace": ns.metadata.name},
    spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
)
k8s.networking.v1.NetworkPolicy(
    "shop-allow",
    metadata=meta,
    spec={
        "podSelector": {"matchLabels": LABELS},
        "policyTypes": ["Ingress"],
        "ingress": [{"ports": [{"port": "http"}]}],
    },
)
