"""A program that imports hastack instead of using its stack files: the settings live in code, and
so does the environment (staging). The namespace the IsolatedNamespace component creates carries the
environment label, which is how the gate knows to use the staging policy."""

import pulumi

from hastack import HighlyAvailableApp, IsolatedNamespace
from hastack.config import validate

settings = {
    "environment": "staging",
    "namespace": "payments",
    "ingress": {"className": "nginx", "tls": {"mode": "cert-manager", "issuer": "letsencrypt-staging"}},
    "apps": [
        {
            "name": "checkout",
            "image": "ghcr.io/acme/checkout@sha256:" + "3d" * 32,
            "port": 8080,
            "autoscaling": {"minReplicas": 2, "maxReplicas": 6, "targetCPUUtilization": 70},
            "ingress": {"hosts": ["pay.staging.example.com"]},
        }
    ],
}
stack = validate(settings, "team-payments/__main__.py")
namespace = IsolatedNamespace(stack.namespace, stack)
apps = [HighlyAvailableApp.from_config(app, stack, namespace.name) for app in stack.apps]
pulumi.export("urls", apps[0].urls)
