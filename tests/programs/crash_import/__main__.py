"""Shaped like many company repos: the program imports a shared platform library from a private index."""

import pulumi_kubernetes as k8s
from acme_platform.kube import standard_labels

k8s.core.v1.Namespace("apps", metadata={"labels": standard_labels("apps")})
