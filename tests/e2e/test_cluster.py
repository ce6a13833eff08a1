"""The local control plane itself: real scheduling over three zones, and a PDB enforced by the
Eviction API. Uses the session fixture `cluster` (tests/e2e/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.kube import Cluster, wait_until

ZONE = "topology.kubernetes.io/zone"
REPLICAS = 3


def _deployment(ns: str, name: str) -> str:
    return f"""
apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
spec:
  replicas: {REPLICAS}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: {ZONE}
        whenUnsatisfiable: DoNotSchedule
        labelSelector:
          matchLabels: {{app: {name}}}
      containers:
      - name: web
        image: registry.example/web:1.0.0
        ports: [{{containerPort: 8080}}]
        readinessProbe:
          httpGet: {{path: /healthz, port: 8080}}
"""


def _available(deploy: dict[str, Any]) -> bool:
    conditions = {c["type"]: c["status"] for c in deploy.get("status", {}).get("conditions", [])}
    return conditions.get("Available") == "True" and deploy["status"].get("readyReplicas", 0) == REPLICAS


def _pods(cluster: Cluster, ns: str, name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = cluster.kubectl_json("-n", ns, "get", "pods", "-l", f"app={name}")["items"]
    return [p for p in items if "deletionTimestamp" not in p["metadata"]]


@pytest.fixture
def spread_app(cluster: Cluster) -> Iterator[tuple[str, str]]:
    """A namespace with a 3-replica Deployment spread over zones (DoNotSchedule), Available."""
    ns, name = f"e2e-{uuid.uuid4().hex[:8]}", "web"
    cluster.apply(_deployment(ns, name))
    try:
        wait_until(
            f"deployment {ns}/{name} Available with {REPLICAS} ready replicas",
            lambda: _available(cluster.kubectl_json("-n", ns, "get", "deployment", name)),
        )
        yield ns, name
    finally:
        cluster.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def test_three_nodes_ready_in_distinct_zones(cluster: Cluster) -> None:
    nodes = cluster.kubectl_json("get", "nodes")["items"]
    assert len(nodes) == 3
    for node in nodes:
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True", node["metadata"]["name"]
    assert sorted(n["metadata"]["labels"][ZONE] for n in nodes) == ["zone-a", "zone-b", "zone-c"]
    assert len({n["metadata"]["labels"]["kubernetes.io/hostname"] for n in nodes}) == 3


def test_zone_spread_deployment_becomes_available_in_three_zones(
    cluster: Cluster, spread_app: tuple[str, str]
) -> None:
    ns, name = spread_app
    pods = _pods(cluster, ns, name)
    assert len(pods) == REPLICAS
    assert all(p["status"]["phase"] == "Running" for p in pods)
    zones = {
        n["metadata"]["name"]: n["metadata"]["labels"][ZONE]
        for n in cluster.kubectl_json("get", "nodes")["items"]
    }
    assert sorted(zones[p["spec"]["nodeName"]] for p in pods) == ["zone-a", "zone-b", "zone-c"]
    deploy = cluster.kubectl_json("-n", ns, "get", "deployment", name)
    progressing = [c for c in deploy["status"]["conditions"] if c["type"] == "Progressing"]
    assert progressing and progressing[0]["reason"] == "NewReplicaSetAvailable"


def test_pdb_allows_one_eviction_and_refuses_the_second(
    cluster: Cluster, spread_app: tuple[str, str]
) -> None:
    ns, name = spread_app
    cluster.apply(
        f"""
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {{name: {name}, namespace: {ns}}}
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {{app: {name}}}
"""
    )

    def budget_ready() -> bool:
        pdb = cluster.kubectl_json("-n", ns, "get", "pdb", name)
        status = pdb.get("status", {})
        return bool(
            status.get("observedGeneration") == pdb["metadata"]["generation"]
            and status.get("disruptionsAllowed") == 1
            and status.get("currentHealthy") == REPLICAS
        )

    wait_until("the PDB to allow exactly one disruption", budget_ready)

    # As in a drain: cordon every node first, so that the evicted pod's replacement stays
    # Pending and cannot restore the budget between the two evictions (kwok readies pods at once).
    nodes = [n["metadata"]["name"] for n in cluster.kubectl_json("get", "nodes")["items"]]
    cluster.kubectl("cordon", *nodes)
    try:
        first, second = (p["metadata"]["name"] for p in _pods(cluster, ns, name)[:2])

        def evict(pod: str) -> tuple[int, Any]:
            body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": pod, "namespace": ns}}
            return cluster.api("POST", f"/api/v1/namespaces/{ns}/pods/{pod}/eviction", body)

        code, reply = evict(first)
        assert code == 201, reply
        code, reply = evict(second)
        assert code == 429, reply
        assert "disruption budget" in reply["message"], reply
        assert "deletionTimestamp" not in cluster.kubectl_json("-n", ns, "get", "pod", second)["metadata"]
        pdb = cluster.kubectl_json("-n", ns, "get", "pdb", name)
        assert pdb["status"]["disruptionsAllowed"] == 0
    finally:
        cluster.kubectl("uncordon", *nodes)

    # Once the nodes are schedulable again the replacement is scheduled in the evicted pod's zone
    # and the Deployment is whole again.
    wait_until(
        "deployment to recover after the eviction",
        lambda: _available(cluster.kubectl_json("-n", ns, "get", "deployment", name)),
    )
