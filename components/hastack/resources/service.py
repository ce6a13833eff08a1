"""The app's Service: its in-cluster discovery address, named after the app, on port 80."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from hastack.config import AppConfig
from hastack.resources.labels import Track, common_labels, instance_name, selector_labels
from hastack.resources.workload import PORT_NAME

SERVICE_PORT = 80


def service_spec(app: AppConfig, track: Track = "stable") -> dict[str, Any]:
    """ClusterIP only: the Ingress is the one public entry; targetPort by name follows the container."""
    return {
        "type": "ClusterIP",
        "selector": selector_labels(app, track),
        "ports": [{"name": PORT_NAME, "port": SERVICE_PORT, "targetPort": PORT_NAME, "protocol": "TCP"}],
    }


def service(
    app: AppConfig, namespace: pulumi.Input[str], parent: pulumi.Resource, track: Track = "stable"
) -> k8s.core.v1.Service:
    """Named after the app (not auto-named): its DNS name is the app's discovery address.

    The canary's Service is `<app>-canary`: only the ingress or gateway splits traffic between them.
    """
    name = instance_name(app, track)
    return k8s.core.v1.Service(
        name,
        metadata={"name": name, "namespace": namespace, "labels": common_labels(app, track)},
        spec=service_spec(app, track),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def service_dns_name(app: AppConfig, namespace: str, cluster_domain: str) -> str:
    return f"{app.name}.{namespace}.svc.{cluster_domain}"
