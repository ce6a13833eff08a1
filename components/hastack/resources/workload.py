"""The pod: its ServiceAccount, and the Deployment with its template (probes, resources, security
context, spread, graceful stop)."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from hastack.config import AppConfig, EnvironmentProfile, ProbeConfig
from hastack.config.profiles import HOSTNAME_KEY, ZONE_KEY
from hastack.resources.labels import (
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
SECRETS_VOLUME = "secrets"
SECRETS_MOUNT_PATH = "/var/run/secrets/hastack"
"""With `secretsAs: files`, each key of the app's Secret is a file here, readable by the pod's group."""
SECRETS_FILE_MODE = 0o440
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


def topology_spread(
    app: AppConfig, profile: EnvironmentProfile, track: Track = "stable"
) -> list[dict[str, Any]]:
    """Hostname spread everywhere (soft); zone spread per environment (hard in prod).

    `matchLabelKeys: [pod-template-hash]` spreads each ReplicaSet on its own, so a rolling update
    is not blocked by the skew of the old pods. The profile's `minDomains` (hard spread only) makes
    the scheduler count missing zones as empty, so a cluster with too few zones leaves the surplus
    pods Pending rather than stacking them in the zones it has.
    """
    selector = {"matchLabels": selector_labels(app, track)}
    constraints = []
    if profile.zone_spread is not None:
        zone: dict[str, Any] = {
            "maxSkew": 1,
            "topologyKey": ZONE_KEY,
            "whenUnsatisfiable": profile.zone_spread,
            "labelSelector": selector,
            "matchLabelKeys": ["pod-template-hash"],
        }
        if profile.zone_min_domains is not None:
            zone["minDomains"] = profile.zone_min_domains
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


def secrets_as_files(app: AppConfig, profile: EnvironmentProfile) -> bool:
    """The app's choice, else the environment's default (files in prod: env variables leak into
    crash dumps and child processes, checkov CKV_K8S_35)."""
    return app.secrets_as == "files" if app.secrets_as is not None else profile.secrets_as_files


def container(
    app: AppConfig,
    profile: EnvironmentProfile,
    config_map_name: pulumi.Input[str],
    secret_name: pulumi.Input[str] | None,
    secret_files: bool = False,
) -> dict[str, Any]:
    env_from: list[dict[str, Any]] = [{"configMapRef": {"name": config_map_name}}]
    mounts: list[dict[str, Any]] = [{"name": TMP_VOLUME, "mountPath": "/tmp"}]
    if secret_name is not None and secret_files:
        mounts.append({"name": SECRETS_VOLUME, "mountPath": SECRETS_MOUNT_PATH, "readOnly": True})
    elif secret_name is not None:
        env_from.append({"secretRef": {"name": secret_name}})
    return {
        "name": app.name,
        "image": app.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": PORT_NAME, "containerPort": app.port, "protocol": "TCP"}],
        "envFrom": env_from,
        "resources": app.resource_quantities(profile),
        "readinessProbe": probe(app.probes.readiness),
        "livenessProbe": probe(app.probes.liveness),
        "startupProbe": startup_probe(app),
        "lifecycle": {"preStop": {"sleep": {"seconds": app.shutdown.pre_stop_seconds}}}
        if app.shutdown.pre_stop_seconds > 0
        else None,
        "securityContext": container_security_context(),
        "volumeMounts": mounts,
    }


def deployment_spec(
    app: AppConfig,
    profile: EnvironmentProfile,
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
    files = secret_name is not None and secrets_as_files(app, profile)
    main = {
        k: v for k, v in container(app, profile, config_map_name, secret_name, files).items() if v is not None
    }
    volumes: list[dict[str, Any]] = [{"name": TMP_VOLUME, "emptyDir": {"sizeLimit": TMP_SIZE_LIMIT}}]
    if files:
        volumes.append(
            {"name": SECRETS_VOLUME, "secret": {"secretName": secret_name, "defaultMode": SECRETS_FILE_MODE}}
        )
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
                "topologySpreadConstraints": topology_spread(app, profile, track),
                "containers": [main],
                "volumes": volumes,
            },
        },
    }
    priority = app.priority_class(profile)
    if priority is not None:
        spec["template"]["spec"]["priorityClassName"] = priority
    if app.autoscaling is None:
        spec["replicas"] = app.replicas
    return spec


def deployment(
    app: AppConfig,
    profile: EnvironmentProfile,
    namespace: pulumi.Input[str],
    parent: pulumi.Resource,
    track: Track = "stable",
    **template_inputs: Any,
) -> k8s.apps.v1.Deployment:
    """Auto-named, so a forced replacement creates the new Deployment before deleting the old."""
    return k8s.apps.v1.Deployment(
        instance_name(app, track),
        metadata={"namespace": namespace, "labels": common_labels(app, track)},
        spec=deployment_spec(app, profile, track=track, **template_inputs),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def service_account(
    app: AppConfig, namespace: pulumi.Input[str], parent: pulumi.Resource
) -> k8s.core.v1.ServiceAccount:
    """An identity per app with no API token mounted: the app does not talk to the API server."""
    return k8s.core.v1.ServiceAccount(
        app.name,
        metadata={"namespace": namespace, "labels": common_labels(app)},
        automount_service_account_token=False,
        opts=pulumi.ResourceOptions(parent=parent),
    )
