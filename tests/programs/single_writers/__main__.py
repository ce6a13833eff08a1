"""Two apps that must run alone. The guestbook's Redis leader takes the writes its followers
replicate: a second leader would take writes the first never sees. A VPN router holds the tunnel's
single address. Telling either to run three replicas makes independent writers; the fix the gate
names is the single-writer annotation. The router carries it (judged no further); the leader does
not, and its `role: leader` label makes the advice lead with the annotation."""

import pulumi_kubernetes as k8s

NS = "guestbook"
ns = k8s.core.v1.Namespace(
    NS, metadata={"name": NS, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}
)


def app(
    name: str, labels: dict[str, str], image: str, port: int, replicas: int, annotations: dict[str, str]
) -> None:
    k8s.apps.v1.Deployment(
        name,
        metadata={"namespace": NS, "name": name, "labels": labels, "annotations": annotations},
        spec={
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 999,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": name,
                            "image": image,
                            "ports": [{"name": "main", "containerPort": port}],
                            "readinessProbe": {"tcpSocket": {"port": "main"}},
                            "livenessProbe": {"tcpSocket": {"port": "main"}, "initialDelaySeconds": 15},
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "100Mi"},
                                "limits": {"memory": "200Mi"},
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
    k8s.core.v1.Service(
        name,
        metadata={"namespace": NS, "name": name, "labels": labels},
        spec={"selector": labels, "ports": [{"port": port, "targetPort": "main"}]},
    )


app(
    "redis-leader",
    {"app": "redis", "role": "leader", "tier": "backend"},
    "docker.io/redis:6.0.5",
    6379,
    1,
    {},
)
app(
    "redis-follower",
    {"app": "redis", "role": "follower", "tier": "backend"},
    "gcr.io/google_samples/gb-redis-follower:v2",
    6379,
    2,
    {},
)
k8s.policy.v1.PodDisruptionBudget(
    "redis-follower",
    metadata={"namespace": NS},
    spec={"maxUnavailable": 1, "selector": {"matchLabels": {"app": "redis", "role": "follower"}}},
)
app(
    "vpn-router",
    {"app": "vpn-router"},
    "ghcr.io/acme/wireguard-router:1.0.20210914",
    51820,
    1,
    {"hastack.dev/single-writer": "holds the tunnel's one address; a second router would split the peers"},
)
