"""HorizontalPodAutoscaler and PodDisruptionBudget, derived so that eviction is always possible."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from hastack.config import AppConfig, AutoscalingConfig
from hastack.resources.labels import Track, common_labels, instance_name, selector_labels


def hpa_spec(autoscaling: AutoscalingConfig, deployment_name: pulumi.Input[str]) -> dict[str, Any]:
    metrics = [
        {
            "type": "Resource",
            "resource": {"name": name, "target": {"type": "Utilization", "averageUtilization": value}},
        }
        for name, value in (
            ("cpu", autoscaling.target_cpu_utilization),
            ("memory", autoscaling.target_memory_utilization),
        )
        if value is not None
    ]
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment_name},
        "minReplicas": autoscaling.min_replicas,
        "maxReplicas": autoscaling.max_replicas,
        "metrics": metrics,
        "behavior": {
            "scaleDown": {
                "stabilizationWindowSeconds": autoscaling.scale_down_stabilization_seconds,
                "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}],
            },
            "scaleUp": {
                "stabilizationWindowSeconds": 0,
                "policies": [
                    {"type": "Percent", "value": 100, "periodSeconds": 30},
                    {"type": "Pods", "value": 4, "periodSeconds": 30},
                ],
                "selectPolicy": "Max",
            },
        },
    }


def autoscaler(
    app: AppConfig,
    deployment_name: pulumi.Input[str],
    namespace: pulumi.Input[str],
    parent: pulumi.Resource,
    track: Track = "stable",
) -> k8s.autoscaling.v2.HorizontalPodAutoscaler | None:
    if app.autoscaling is None:
        return None
    return k8s.autoscaling.v2.HorizontalPodAutoscaler(
        instance_name(app, track),
        metadata={"namespace": namespace, "labels": common_labels(app, track)},
        spec=hpa_spec(app.autoscaling, deployment_name),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def pdb_spec(app: AppConfig, track: Track = "stable") -> dict[str, Any]:
    """Selects exactly the track's pods (one PDB per pod); unhealthy pods may always be evicted."""
    budget = app.disruption_budget
    spec: dict[str, Any] = {
        "selector": {"matchLabels": selector_labels(app, track)},
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }
    if budget.max_unavailable is not None:
        spec["maxUnavailable"] = budget.max_unavailable
    else:
        spec["minAvailable"] = budget.min_available
    return spec


def disruption_budget(
    app: AppConfig, namespace: pulumi.Input[str], parent: pulumi.Resource, track: Track = "stable"
) -> k8s.policy.v1.PodDisruptionBudget:
    return k8s.policy.v1.PodDisruptionBudget(
        instance_name(app, track),
        metadata={"namespace": namespace, "labels": common_labels(app, track)},
        spec=pdb_spec(app, track),
        opts=pulumi.ResourceOptions(parent=parent),
    )
