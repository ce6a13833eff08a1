"""A privileged, host-mounting, root-running Deployment in the default namespace behind a
LoadBalancer, with a :latest image (policy gate fixture).
"""

import pulumi_kubernetes as k8s

LABELS = {"app": "agent"}
probe = {"tcpSocket": {"port": 9100}}
k8s.apps.v1.Deployment(
    "agent",
    spec={
        "replicas": 3,
        "selector": {"matchLabels": LABELS},
        "strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
        "template": {
            "metadata": {"labels": LABELS},
            "spec": {
                "hostNetwork": True,
                "priorityClassName": "serving-high",
                "affinity": {
                    "podAntiAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": [
                            {"topologyKey": key, "labelSelector": {"matchLabels": LABELS}}
                            for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
                        ]
                    }
                },
                "containers": [
                    {
                        "name": "agent",
                        "image": "acme/agent:latest",
                        "ports": [{"name": "metrics", "containerPort": 9100}],
                        "readinessProbe": probe,
                        "livenessProbe": {**probe, "periodSeconds": 30},
                        "startupProbe": {**probe, "failureThreshold": 30},
                        "resources": {
                            "requests": {"cpu": "50m", "memory": "64Mi", "ephemeral-storage": "64Mi"},
                            "limits": {"memory": "128Mi", "ephemeral-storage": "512Mi"},
                        },
                        "securityContext": {"privileged": True},
                        "volumeMounts": [{"name": "proc", "mountPath": "/host/proc"}],
                    }
                ],
                "volumes": [{"name": "proc", "hostPath": {"path": "/proc"}}],
            },
        },
    },
)
k8s.policy.v1.PodDisruptionBudget(
    "agent",
    spec={
        "maxUnavailable": 1,
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
        "selector": {"matchLabels": LABELS},
    },
)
k8s.core.v1.Service(
    "agent",
    spec={"type": "LoadBalancer", "selector": LABELS, "ports": [{"port": 9100, "targetPort": "metrics"}]},
)
k8s.networking.v1.NetworkPolicy(
    "default-deny", spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
)
