"""The Deployment and its pod template: probes, resources, security context, spread, graceful stop."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from hastack.config import AppConfig, EnvironmentRules, ProbeConfig
from hastack.config.profiles import HOSTNAME_KEY, ZONE_KEY
from hastack.labels import (
    CHECKSUM_ANNOTATION,
    Track,
    common_labels,
    instance_name,
    pod_labels,
    selector_labels,
)

PORT_NAME = "http"
TMP_VOLUME = "tmp"
TMP_SIZE_LIMIT = "64Mi"
STARTUP_BUDGET_SECONDS = 150
"""How long a slow start may take before the startup probe gives up and the pod restarts."""


def probe(config: ProbeConfig) -> dict[str, Any]:
    """An HTTP probe; a zero initial delay is left out, as the API server leaves it (no diff)."""
    spec: dict[str, Any] = {
        "httpGet": {"path": config.path, "port": PORT_NAME},
        "periodSeconds": config.period_seconds,
        "timeoutSeconds": config.timeout_seconds,
        "failureThreshold": config.failure_threshold,
        "successThreshold": 1,
    }
    if config.initial_delay_seconds:
        spec["initialDelaySeconds"] = config.initial_delay_seconds
    return spec


def startup_probe(app: AppConfig) -> dict[str, Any]:
    """The configured startup probe, else the readiness check with a generous failure budget."""
    if app.probes.startup is not None:
        return probe(app.probes.startup)
    period = 5
    return {
        "httpGet": {"path": app.probes.readiness.path, "port": PORT_NAME},
        "periodSeconds": period,
        "timeoutSeconds": app.probes.readiness.timeout_seconds,
        "failureThreshold": STARTUP_BUDGET_SECONDS // period,
        "successThreshold": 1,
    }


def topology_spread(app: AppConfig, rules: EnvironmentRules, track: Track = "stable") -> list[dict[str, Any]]:
    """Hostname spread everywhere (soft); zone spread per environment (hard in prod).

    `matchLabelKeys: [pod-template-hash]` spreads each ReplicaSet on its own, so a rolling update
    is not blocked by the skew of the old pods. The profile's `minDomains` (hard spread only) makes
    the scheduler count missing zones as empty, so a cluster with too few zones leaves the surplus
    pods Pending rather than stacking them in the zones it has.
    """
    selector = {"matchLabels": selector_labels(app, track)}
    constraints = []
    if rules.zone_spread is not None:
        zone: dict[str, Any] = {
            "maxSkew": 1,
            "topologyKey": ZONE_KEY,
            "whenUnsatisfiable": rules.zone_spread,
            "labelSelector": selector,
            "matchLabelKeys": ["pod-template-hash"],
        }
        if rules.zone_min_domains is not None:
            zone["minDomains"] = rules.zone_min_domains
        constraints.append(zone)
    constraints.append(
        {
            "maxSkew": 1,
            "topologyKey": HOSTNAME_KEY,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": selector,
            "matchLabelKeys": ["pod-template-hash"],
        }
    )
    return constraints


def container_security_context() -> dict[str, Any]:
    """Pod Security Standards *restricted*, plus a read-only root filesystem."""
    return {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pod_security_context(app: AppConfig) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": app.run_as_user,
        "runAsGroup": app.run_as_user,
        "fsGroup": app.run_as_user,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container(
    app: AppConfig,
    rules: EnvironmentRules,
    config_map_name: pulumi.Input[str],
    secret_name: pulumi.Input[str] | None,
) -> dict[str, Any]:
    env_from: list[dict[str, Any]] = [{"configMapRef": {"name": config_map_name}}]
    if secret_name is not None:
        env_from.append({"secretRef": {"name": secret_name}})
    return {
        "name": app.name,
        "image": app.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": PORT_NAME, "containerPort": app.port, "protocol": "TCP"}],
        "envFrom": env_from,
        "resources": app.resource_quantities(rules),
        "readinessProbe": probe(app.probes.readiness),
        "livenessProbe": probe(app.probes.liveness),
        "startupProbe": startup_probe(app),
        "lifecycle": {"preStop": {"sleep": {"seconds": app.shutdown.pre_stop_seconds}}}
        if app.shutdown.pre_stop_seconds > 0
        else None,
        "securityContext": container_security_context(),
        "volumeMounts": [{"name": TMP_VOLUME, "mountPath": "/tmp"}],
    }


def deployment_spec(
    app: AppConfig,
    rules: EnvironmentRules,
    *,
    service_account_name: pulumi.Input[str],
    config_map_name: pulumi.Input[str],
    secret_name: pulumi.Input[str] | None,
    config_checksum: pulumi.Input[str],
    track: Track = "stable",
) -> dict[str, Any]:
    """The Deployment spec; `replicas` is left out when an HPA owns the count.

    A canary gets the very same spec (probes, security, spread, rollout) under its own selector.
    """
    main = {k: v for k, v in container(app, rules, config_map_name, secret_name).items() if v is not None}
    spec: dict[str, Any] = {
        "selector": {"matchLabels": selector_labels(app, track)},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}},
        "minReadySeconds": 5,
        "revisionHistoryLimit": 5,
        "progressDeadlineSeconds": 600,
        "template": {
            "metadata": {
                "labels": pod_labels(app, track),
                "annotations": {CHECKSUM_ANNOTATION: config_checksum},
            },
            "spec": {
                "serviceAccountName": service_account_name,
                "automountServiceAccountToken": False,
                "enableServiceLinks": False,
                "securityContext": pod_security_context(app),
                "terminationGracePeriodSeconds": app.shutdown.termination_grace_period_seconds,
                "topologySpreadConstraints": topology_spread(app, rules, track),
                "containers": [main],
                "volumes": [{"name": TMP_VOLUME, "emptyDir": {"sizeLimit": TMP_SIZE_LIMIT}}],
            },
        },
    }
    priority = app.priority_class(rules)
    if priority is not None:
        spec["template"]["spec"]["priorityClassName"] = priority
    if app.autoscaling is None:
        spec["replicas"] = app.replicas
    return spec


def deployment(
    app: AppConfig,
    rules: EnvironmentRules,
    namespace: pulumi.Input[str],
    parent: pulumi.Resource,
    track: Track = "stable",
    **template_inputs: Any,
) -> k8s.apps.v1.Deployment:
    """Auto-named, so a forced replacement creates the new Deployment before deleting the old."""
    return k8s.apps.v1.Deployment(
        instance_name(app, track),
        metadata={"namespace": namespace, "labels": common_labels(app, track)},
        spec=deployment_spec(app, rules, track=track, **template_inputs),
        opts=pulumi.ResourceOptions(parent=parent),
    )
