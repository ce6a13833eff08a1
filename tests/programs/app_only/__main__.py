"""HighlyAvailableApp used alone (as in the README), in a namespace this program does not create:
the environment exists only in the component's args. The app's NetworkPolicy carries it as a
label, which is how the gate knows to use the dev policy config rather than the strictest."""

import pulumi

from hastack import HighlyAvailableApp

search = HighlyAvailableApp(
    "search",
    {
        "environment": {
            "name": "dev",
            "ingress": {"className": "nginx", "tls": {"mode": "self-signed"}},
        },
        "namespace": "search-preview",
        "image": "ghcr.io/acme/search:1.4.2",
        "port": 8080,
        "replicas": 2,
        "ingress": {"hosts": ["search.dev.example.com"]},
    },
)
pulumi.export("urls", search.urls)
