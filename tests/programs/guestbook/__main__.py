"""Redis leader and replica plus a PHP frontend behind a LoadBalancer, written the way the public
example is: untagged images, one replica for Redis, no probes, no policies. (The example also exports
`frontend.status.load_balancer.ingress[0].ip`; the mocks fill in no status yet, so it is left out.)"""

import pulumi_kubernetes as k8s


def tier(name: str, image: str, port: int, replicas: int, labels: dict[str, str]) -> k8s.apps.v1.Deployment:
    return k8s.apps.v1.Deployment(
        name,
        spec={
            "selector": {"matchLabels": labels},
            "replicas": replicas,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": name,
                            "image": image,
                            "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}},
                            "ports": [{"containerPort": port}],
                        }
                    ]
                },
            },
        },
    )


leader_labels = {"app": "redis", "tier": "backend", "role": "leader"}
replica_labels = {"app": "redis", "tier": "backend", "role": "replica"}
frontend_labels = {"app": "guestbook", "tier": "frontend"}
tier("redis-leader", "redis", 6379, 1, leader_labels)
tier("redis-replica", "pulumi/guestbook-redis-replica", 6379, 1, replica_labels)
tier("frontend", "pulumi/guestbook-php-redis", 80, 3, frontend_labels)
k8s.core.v1.Service(
    "redis-leader",
    metadata={"name": "redis-leader", "labels": leader_labels},
    spec={"ports": [{"port": 6379, "targetPort": 6379}], "selector": leader_labels},
)
k8s.core.v1.Service(
    "redis-replica",
    metadata={"name": "redis-replica", "labels": replica_labels},
    spec={"ports": [{"port": 6379, "targetPort": 6379}], "selector": replica_labels},
)
k8s.core.v1.Service(
    "frontend",
    metadata={"name": "frontend", "labels": frontend_labels},
    spec={"type": "LoadBalancer", "ports": [{"port": 80}], "selector": frontend_labels},
)
