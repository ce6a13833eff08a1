"""The replica count comes from required stack config, as in most examples."""

import pulumi
import pulumi_kubernetes as k8s

config = pulumi.Config()
replicas = config.require_int("replicas")
labels = {"app": "web"}
k8s.apps.v1.Deployment(
    "web",
    spec={
        "replicas": replicas,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
        },
    },
)
