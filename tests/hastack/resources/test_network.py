"""Namespace PSA labels, ServiceAccount without token, NetworkPolicies that deny by default."""

from __future__ import annotations

from typing import Any

from hastack.namespace import namespace_labels
from hastack.resources.network import controller_namespace, network_policy_spec
from tests.conftest import minimal_config, objects, parsed, run_config


def two_apps(**stack: Any) -> dict[str, Any]:
    raw = minimal_config()
    raw["apps"].append(
        {"name": "api", "image": "ghcr.io/acme/api:1.0.0", "port": 9090, "replicas": 2, "allowFrom": ["web"]}
    )
    raw.update(stack)
    return raw


def test_namespace_enforces_restricted() -> None:
    labels = namespace_labels("prod")
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"


def test_exposed_app_admits_only_the_controller_on_its_port() -> None:
    stack = parsed(two_apps())
    spec = network_policy_spec(stack.apps[0], stack, stack.neighbours_of(stack.apps[0]))
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"] == [
        {
            "from": [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
            ],
            "ports": [{"protocol": "TCP", "port": 8080}],
        }
    ]


def test_caller_gets_egress_to_callee_and_callee_admits_caller() -> None:
    stack = parsed(two_apps())
    web, api = stack.apps
    web_egress = network_policy_spec(web, stack, stack.neighbours_of(web))["egress"]
    assert {
        "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}}}],
        "ports": [{"protocol": "TCP", "port": 9090}],
    } in web_egress
    api_ingress = network_policy_spec(api, stack, stack.neighbours_of(api))["ingress"]
    assert api_ingress == [
        {
            "from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}}}],
            "ports": [{"protocol": "TCP", "port": 9090}],
        }
    ]


def test_every_app_may_resolve_dns_only_in_kube_system() -> None:
    stack = parsed(two_apps())
    dns_rule = network_policy_spec(stack.apps[1], stack, stack.neighbours_of(stack.apps[1]))["egress"][0]
    assert dns_rule["to"][0]["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
    }
    assert sorted(p["protocol"] for p in dns_rule["ports"]) == ["TCP", "UDP"]


def test_controller_namespace_override() -> None:
    stack = parsed(
        two_apps(
            ingress={"className": "nginx", "controllerNamespace": "edge", "tls": {"mode": "self-signed"}}
        )
    )
    assert controller_namespace(stack) == "edge"


def test_program_creates_default_deny_and_tokenless_service_accounts() -> None:
    run = run_config(two_apps())
    namespace = objects(run, "Namespace")
    assert [n["metadata"]["name"] for n in namespace] == ["shop"]
    policies = objects(run, "NetworkPolicy")
    deny = [p for p in policies if p["spec"]["podSelector"] == {}]
    assert len(deny) == 1 and deny[0]["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny[0]["spec"] and "egress" not in deny[0]["spec"]
    accounts = objects(run, "ServiceAccount")
    assert len(accounts) == 2
    assert all(a["automountServiceAccountToken"] is False for a in accounts)
