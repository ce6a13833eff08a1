"""The NetworkPolicies hastack renders for egress allowances are admitted by the API server as sent.

No engine: the program runs under mocks (as `make render` runs it) and its NetworkPolicies are
created in a fresh namespace of the local control plane, then read back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import minimal_config, objects, run_config
from tests.e2e.kube import Cluster, scratch_namespace

EGRESS: list[dict[str, Any]] = [
    {"cidr": "10.40.0.0/24", "except": ["10.40.0.128/25"], "ports": [{"port": 5432}]},
    {"cidr": "2001:db8::/32", "ports": [{"port": 443}, {"port": 8125, "protocol": "UDP"}]},
    {
        "namespaceLabels": {"kubernetes.io/metadata.name": "payments"},
        "podLabels": {"app.kubernetes.io/name": "ledger"},
        "ports": [{"port": 8443}],
    },
    {
        "namespaceLabels": {},
        "podLabels": {"example.com/role": "metrics"},
        "ports": [{"port": 9090}],
        "reason": "metrics collectors run in every team's namespace",
    },
    {"cidr": "0.0.0.0/0", "ports": [{"port": 443, "protocol": "TCP"}], "reason": "partner API, rotating IPs"},
    {"app": "api"},
]


def rendered_policies() -> list[dict[str, Any]]:
    raw = minimal_config("prod", egress=EGRESS)
    raw["apps"].append(
        {
            "name": "api",
            "image": "ghcr.io/acme/api@sha256:" + "b" * 64,
            "port": 9090,
            "replicas": 3,
        }
    )
    return objects(run_config(raw, "prod"), "NetworkPolicy")


@pytest.fixture
def namespace(cluster: Cluster) -> Iterator[str]:
    with scratch_namespace(cluster, "e2e-netpol") as ns:
        yield ns


def test_egress_network_policies_are_admitted_as_rendered(cluster: Cluster, namespace: str) -> None:
    policies = rendered_policies()
    web = next(
        p for p in policies if p["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "web"}}
    )
    assert len(web["spec"]["egress"]) == 1 + len(EGRESS)  # DNS, then one rule per allowance
    for policy in policies:
        policy["metadata"]["namespace"] = namespace
        cluster.kubectl("create", "-f", "-", input=json.dumps(policy))
        stored = cluster.kubectl_json("-n", namespace, "get", "networkpolicy", policy["metadata"]["name"])
        assert stored["spec"] == policy["spec"]
        annotations = stored["metadata"].get("annotations", {})
        assert annotations == policy["metadata"].get("annotations", {})


def test_the_api_server_refuses_what_the_config_refuses(cluster: Cluster, namespace: str) -> None:
    """Guards the test above: admission really validates these fields (port 0, a prefix too long).
    (Host bits set, 10.40.0.1/24, only draw a warning from 1.34; the config refuses them.)"""
    (web, *_) = rendered_policies()
    for cidr, port in (("10.40.0.0/24", 0), ("10.40.0.0/33", 5432)):
        policy = json.loads(json.dumps(web))
        policy["metadata"] = {"name": "bad", "namespace": namespace}
        policy["spec"]["egress"] = [
            {"to": [{"ipBlock": {"cidr": cidr}}], "ports": [{"protocol": "TCP", "port": port}]}
        ]
        refused = cluster.kubectl("create", "-f", "-", input=json.dumps(policy), check=False)
        assert refused.returncode != 0 and "is invalid" in refused.stderr, (cidr, port)
