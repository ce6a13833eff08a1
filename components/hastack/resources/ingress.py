"""The app's Ingress: its hosts and paths over TLS, with the annotations of the cluster's ingress
controller (hastack.controllers) for balancing, rate limits, resilience and a weighted canary."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from hastack.config import AppConfig, IngressConfig
from hastack.controllers import ingress_controller_for
from hastack.resources.labels import Track, common_labels, instance_name
from hastack.resources.tls import TlsBinding
from hastack.resources.workload import PORT_NAME

SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait"
"""Tells pulumi-kubernetes not to wait for the Ingress's load-balancer status."""


def ingress_annotations(app: AppConfig, stack_ingress: IngressConfig) -> dict[str, str]:
    """Controller-specific annotations, all from the profile table."""
    assert app.ingress is not None
    controller = ingress_controller_for(stack_ingress.class_name, stack_ingress.controller)
    assert controller is not None  # guaranteed by config validation
    limit = app.ingress.rate_limit
    rate_limit = limit.as_rate_limit() if limit is not None else None
    return controller.ingress_annotations(app.ingress.load_balancing, rate_limit, app.ingress.as_resilience())


def ingress_spec(
    app: AppConfig, class_name: str, tls: TlsBinding, service_name: pulumi.Input[str]
) -> dict[str, Any]:
    assert app.ingress is not None
    backend = {"service": {"name": service_name, "port": {"name": PORT_NAME}}}
    paths = [{"path": path, "pathType": "Prefix", "backend": backend} for path in app.ingress.paths]
    return {
        "ingressClassName": class_name,
        "tls": [{"hosts": list(app.ingress.hosts), "secretName": tls.secret_name}],
        "rules": [{"host": host, "http": {"paths": paths}} for host in app.ingress.hosts],
    }


def canary_ingress_annotations(app: AppConfig, stack_ingress: IngressConfig) -> dict[str, str]:
    """The controller's canary annotations for the app's weight (config validation ensures it has them).

    No certificate annotation: the stable Ingress already asks for the shared TLS secret, and a
    second request for it would make cert-manager fight over one Certificate.
    """
    assert app.canary is not None
    controller = ingress_controller_for(stack_ingress.class_name, stack_ingress.controller)
    assert controller is not None  # guaranteed by config validation
    assert controller.canary_annotations is not None
    return controller.canary_annotations(app.canary.weight)


def ingress(
    app: AppConfig,
    stack_ingress: IngressConfig,
    tls: TlsBinding,
    service_name: pulumi.Input[str],
    namespace: pulumi.Input[str],
    parent: pulumi.Resource,
    track: Track = "stable",
) -> k8s.networking.v1.Ingress:
    """The stable Ingress, or for the canary track the controller's weighted twin of it."""
    if track == "stable":
        annotations = {**ingress_annotations(app, stack_ingress), **tls.annotations, **tls.every_track}
    else:
        annotations = {**canary_ingress_annotations(app, stack_ingress), **tls.every_track}
    if not stack_ingress.await_load_balancer:
        annotations[SKIP_AWAIT_ANNOTATION] = "true"
    return k8s.networking.v1.Ingress(
        instance_name(app, track),
        metadata={"namespace": namespace, "labels": common_labels(app, track), "annotations": annotations},
        spec=ingress_spec(app, stack_ingress.class_name, tls, service_name),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def public_urls(app: AppConfig) -> list[pulumi.Input[str]]:
    """https://<host><path> per host and path; a computed host (hastack.args) gives an Output."""
    if app.ingress is None:
        return []
    hosts: list[pulumi.Input[str]] = list(app.ingress.hosts)
    return [
        f"https://{host}{path}" if isinstance(host, str) else pulumi.Output.concat("https://", host, path)
        for host in hosts
        for path in app.ingress.paths
    ]
