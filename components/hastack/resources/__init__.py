"""One Kubernetes concept per module: the builders a HighlyAvailableApp composes (its labels, pod,
scaling, Service, Ingress or Gateway routes, NetworkPolicy, Secret and TLS, canary)."""
