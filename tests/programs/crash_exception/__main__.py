"""Validates its own settings and raises, as well-behaved programs do on bad input."""

import pulumi_kubernetes as k8s

SIZES = {"small": "128Mi", "large": "1Gi"}


def memory(size: str) -> str:
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    return SIZES[size]


k8s.core.v1.ConfigMap("limits", data={"memory": memory("medium")})
