"""The good app with cross-resource mistakes only single-object linters would miss:

- the HPA targets "shop" (the Pulumi name), not the auto-named Deployment → hpa-target-exists,
  and so the Deployment runs one replica → min-replicas;
- a second PDB selects the same pods → pdb-coverage; it requires all 1 pods → pdb-allows-eviction;
- the Service's targetPort names "web", which no container declares → service-selects-pods;
- the Ingress backend names Service "shop-svc" → ingress-backend-exists;
- the TLS secret is neither in the stack nor cert-manager-issued → ingress-tls-coverage.
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
    {"topologyKey": key, "maxSkew": 1, "whenUnsatisfiable": when, "labelSelector": {"matchLabels": LABELS}}
    for key, when in (
        ("topology.kubernetes.io/zone", "DoNotSchedule"),
        ("kubernetes.io/hostname", "ScheduleAnyway"),
    )
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
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop"},
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
k8s.policy.v1.PodDisruptionBudget(
    "shop-strict",
    metadata=meta,
    spec={
        "minAvailable": "100%",
        "selector": {
            "matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In", "values": ["shop"]}]
        },
    },
)
service = k8s.core.v1.Service(
    "shop",
    metadata=meta,
    spec={"selector": LABELS, "ports": [{"name": "http", "port": 80, "targetPort": "web"}]},
)
k8s.networking.v1.Ingress(
    "shop",
    metadata=meta,
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
                            "backend": {"service": {"name": "shop-svc", "port": {"name": "http"}}},
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
