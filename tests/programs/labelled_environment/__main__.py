"""Preview environments are often created by a program with no stack config at all; this one says in
code what it is, with the label the gate reads, so it is judged by the dev policy, not by prod's."""

import pulumi
import pulumi_kubernetes as k8s

branch = "feature-login"
labels = {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": branch}
ns = k8s.core.v1.Namespace(
    "preview",
    metadata={
        "name": f"preview-{branch}",
        "labels": {"hastack.dev/environment": "dev", "pod-security.kubernetes.io/enforce": "restricted"},
    },
)
probe = {"httpGet": {"path": "/healthz", "port": "http"}}
k8s.apps.v1.Deployment(
    "web",
    metadata={"namespace": ns.metadata.name, "labels": labels},
    spec={
        "replicas": 2,
        "selector": {"matchLabels": labels},
        "strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "automountServiceAccountToken": False,
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 10001,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "topologySpreadConstraints": [
                    {
                        "topologyKey": "kubernetes.io/hostname",
                        "maxSkew": 1,
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": labels},
                    }
                ],
                "containers": [
                    {
                        "name": "web",
                        "image": f"ghcr.io/acme/web:{branch}",
                        "ports": [{"name": "http", "containerPort": 8080}],
                        "readinessProbe": probe,
                        "livenessProbe": {"tcpSocket": {"port": "http"}},
                        "resources": {
                            "requests": {"cpu": "50m", "memory": "64Mi"},
                            "limits": {"memory": "128Mi"},
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
    "web",
    metadata={"namespace": ns.metadata.name},
    spec={
        "maxUnavailable": 1,
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
        "selector": {"matchLabels": labels},
    },
)
k8s.networking.v1.NetworkPolicy(
    "default-deny",
    metadata={"namespace": ns.metadata.name},
    spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
)
web = k8s.core.v1.Service(
    "web",
    metadata={"namespace": ns.metadata.name},
    spec={"type": "LoadBalancer", "selector": labels, "ports": [{"port": 80, "targetPort": "http"}]},
)
pulumi.export("namespace", ns.metadata.name)
