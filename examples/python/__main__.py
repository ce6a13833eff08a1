"""Two highly available apps whose images, replica count and host are another resource's outputs.

The release ConfigMap stands for what a build pipeline publishes (a StackReference or an image build
gives Outputs the same way); hastack checks each computed value with its usual rules once it resolves.
"""

import pulumi
import pulumi_kubernetes as k8s

from hastack import HighlyAvailableApp

config = pulumi.Config()
restricted = {"pod-security.kubernetes.io/enforce": "restricted"}
shop = k8s.core.v1.Namespace("shop", metadata={"name": config.require("namespace"), "labels": restricted})
ns = shop.metadata.name
deny_all = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}  # each app opens only what it needs
k8s.networking.v1.NetworkPolicy("default-deny", metadata={"namespace": ns}, spec=deny_all)
release = k8s.core.v1.ConfigMap(
    "release",
    metadata={"namespace": ns},
    data={
        "api": "ghcr.io/acme/shop-api@sha256:" + "1" * 64,
        "web": "ghcr.io/acme/shop-web@sha256:" + "2" * 64,
        "replicas": config.get("replicas") or "2",
        "host": "shop.example.test",
    },
)
tls, await_lb = {"mode": "self-signed"}, config.get_bool("awaitLb", True)
ingress = {"className": "nginx", "tls": tls, "awaitLoadBalancer": await_lb}
env = {"name": config.require("environment"), "ingress": ingress}
common = {"environment": env, "namespace": ns, "port": 8080, "replicas": release.data["replicas"].apply(int)}

api = HighlyAvailableApp("api", {**common, "image": release.data["api"], "allowFrom": ["web"]})
web = HighlyAvailableApp(
    "web",
    {
        **common,
        "image": release.data["web"],
        "ingress": {"hosts": [release.data["host"]]},
        "calls": [{"name": "api", "port": 8080}],
    },
)
pulumi.export("urls", web.urls)
pulumi.export("api", api.service_dns_name)
