"""Prod's zone spread refuses a cluster with too few zones, on the real scheduler of the local control
plane: with `minDomains: 3` a third replica stays Pending when only two zones are eligible, where the
same spread without `minDomains` packs it into the two zones there are (the silent case the profile
closes). The local cluster has one kwok node in each of zones a, b and c; a required node affinity on
the rendered Deployment leaves two of them, which is how the scheduler counts domains (nodes matching
the pod's node affinity).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from hastack.config.profiles import ENVIRONMENTS, ZONE_KEY
from tests.conftest import minimal_config, objects, run_config
from tests.e2e.kube import Cluster, scratch_namespace, wait_until

TWO_ZONES = ["zone-a", "zone-b"]


def prod_deployment(namespace: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The prod Deployment and its ServiceAccount as `make render STACK=prod` would write them."""
    run = run_config(minimal_config("prod"), "prod")
    (deployment,) = objects(run, "Deployment")
    (account,) = objects(run, "ServiceAccount")
    for obj in (deployment, account):
        obj["metadata"] = {"name": obj["metadata"]["name"], "namespace": namespace}
    return deployment, account


def confined_to(deployment: dict[str, Any], zones: list[str]) -> dict[str, Any]:
    confined = copy.deepcopy(deployment)
    confined["spec"]["template"]["spec"]["affinity"] = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": ZONE_KEY, "operator": "In", "values": zones}]}
                ]
            }
        }
    }
    return confined


def zone_constraint(deployment: dict[str, Any]) -> dict[str, Any]:
    constraints = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
    zone: dict[str, Any] = next(c for c in constraints if c["topologyKey"] == ZONE_KEY)
    return zone


@pytest.fixture
def namespace(cluster: Cluster) -> Iterator[str]:
    with scratch_namespace(cluster, "e2e-zones") as ns:
        yield ns


def placement(cluster: Cluster, namespace: str, name: str) -> tuple[list[str], list[str]]:
    """Node names of the scheduled pods, and the scheduler's messages for the unschedulable ones."""
    pods = cluster.kubectl_json("-n", namespace, "get", "pods", "-l", f"hastack-e2e={name}")["items"]
    nodes = [p["spec"]["nodeName"] for p in pods if p["spec"].get("nodeName")]
    refused = [
        c.get("message", "")
        for p in pods
        for c in p.get("status", {}).get("conditions", [])
        if c["type"] == "PodScheduled" and c["status"] == "False" and c.get("reason") == "Unschedulable"
    ]
    return nodes, refused


def deploy(cluster: Cluster, deployment: dict[str, Any], name: str) -> None:
    deployment = copy.deepcopy(deployment)
    deployment["metadata"]["name"] = name
    deployment["spec"]["template"]["metadata"].setdefault("labels", {})["hastack-e2e"] = name
    deployment["spec"]["selector"]["matchLabels"]["hastack-e2e"] = name  # the two must not overlap
    cluster.kubectl("create", "-f", "-", input=json.dumps(deployment))


def test_prod_spread_leaves_a_replica_pending_on_two_zones(cluster: Cluster, namespace: str) -> None:
    deployment, account = prod_deployment(namespace)
    replicas = deployment["spec"]["replicas"]
    assert replicas == ENVIRONMENTS["prod"].min_replicas == 3
    assert zone_constraint(deployment)["minDomains"] == ENVIRONMENTS["prod"].zone_min_domains == 3
    assert zone_constraint(deployment)["whenUnsatisfiable"] == "DoNotSchedule"
    cluster.kubectl("create", "-f", "-", input=json.dumps(account))

    confined = confined_to(deployment, TWO_ZONES)
    deploy(cluster, confined, "spread")
    unguarded = copy.deepcopy(confined)
    del zone_constraint(unguarded)["minDomains"]
    deploy(cluster, unguarded, "packed")

    def settled() -> bool:
        spread_nodes, spread_refused = placement(cluster, namespace, "spread")
        packed_nodes, _ = placement(cluster, namespace, "packed")
        return bool(len(spread_nodes) + len(spread_refused) == replicas and len(packed_nodes) == replicas)

    wait_until("the scheduler placed or refused every replica", settled, timeout=120)
    spread_nodes, spread_refused = placement(cluster, namespace, "spread")
    assert sorted(spread_nodes) == ["kwok-node-a", "kwok-node-b"]  # one per zone, the third refused
    assert len(spread_refused) == 1 and "topology spread constraints" in spread_refused[0], spread_refused
    packed_nodes, packed_refused = placement(cluster, namespace, "packed")
    assert packed_refused == [] and set(packed_nodes) == {"kwok-node-a", "kwok-node-b"}  # 2 + 1: packed
