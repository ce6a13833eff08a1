"""HPA and PDB derivation."""

from __future__ import annotations

from hastack.resources.scaling import hpa_spec, pdb_spec
from tests.conftest import minimal_config, parsed


def test_hpa_targets_the_deployment_with_both_metrics() -> None:
    app = parsed(
        minimal_config(
            replicas=None,
            autoscaling={
                "minReplicas": 2,
                "maxReplicas": 8,
                "targetCPUUtilization": 70,
                "targetMemoryUtilization": 80,
            },
        )
    ).apps[0]
    assert app.autoscaling is not None
    spec = hpa_spec(app.autoscaling, "web-123")
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web-123"}
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 8)
    assert [
        (m["resource"]["name"], m["resource"]["target"]["averageUtilization"]) for m in spec["metrics"]
    ] == [
        ("cpu", 70),
        ("memory", 80),
    ]
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300


def test_hpa_with_cpu_only_has_one_metric() -> None:
    app = parsed(
        minimal_config(
            replicas=None, autoscaling={"minReplicas": 2, "maxReplicas": 4, "targetCPUUtilization": 50}
        )
    ).apps[0]
    assert app.autoscaling is not None
    assert [m["resource"]["name"] for m in hpa_spec(app.autoscaling, "d")["metrics"]] == ["cpu"]


def test_default_pdb_allows_one_eviction_and_evicts_unhealthy_pods() -> None:
    app = parsed(minimal_config()).apps[0]
    spec = pdb_spec(app)
    assert spec == {
        "selector": {"matchLabels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web"}},
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
        "maxUnavailable": 1,
    }
    assert app.disruption_budget.disruptions_allowed(app.replica_floor()) == 1


def test_min_available_budget_is_passed_through() -> None:
    app = parsed(minimal_config(replicas=4, disruptionBudget={"minAvailable": "50%"})).apps[0]
    spec = pdb_spec(app)
    assert spec["minAvailable"] == "50%"
    assert "maxUnavailable" not in spec
