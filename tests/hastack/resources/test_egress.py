"""Egress allowances: validated with exact key paths, rendered into the app's NetworkPolicy only."""

from __future__ import annotations

from typing import Any

import pytest

from hastack.config import ConfigError
from hastack.resources.labels import OPEN_EGRESS_ANNOTATION
from hastack.resources.network import network_policy_spec
from tests.conftest import minimal_config, objects, parsed, run_config

DATABASE = {"cidr": "10.40.0.0/24", "ports": [{"port": 5432}]}


def with_egress(environment: str, *egress: dict[str, Any], **app: Any) -> dict[str, Any]:
    return minimal_config(environment, egress=list(egress), **app)


def problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parsed(raw)
    return raised.value.problems


def test_prod_app_reaches_the_database_block_on_its_port_and_nothing_else() -> None:
    stack = parsed(with_egress("prod", DATABASE))
    egress = network_policy_spec(stack.apps[0], stack, stack.neighbours_of(stack.apps[0]))["egress"]
    dns, database = egress
    assert dns["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
    assert database == {
        "to": [{"ipBlock": {"cidr": "10.40.0.0/24"}}],
        "ports": [{"protocol": "TCP", "port": 5432}],
    }


def test_cidr_except_and_protocols_are_rendered_as_given() -> None:
    entry = {
        "cidr": "2001:db8::/32",
        "except": ["2001:db8:1::/48"],
        "ports": [{"port": 53, "protocol": "UDP"}, {"port": 3868, "protocol": "SCTP"}],
    }
    stack = parsed(with_egress("dev", entry))
    rule = network_policy_spec(stack.apps[0], stack, stack.neighbours_of(stack.apps[0]))["egress"][-1]
    assert rule == {
        "to": [{"ipBlock": {"cidr": "2001:db8::/32", "except": ["2001:db8:1::/48"]}}],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "SCTP", "port": 3868}],
    }


def test_label_selectors_are_exact_and_namespace_only_means_every_pod_there() -> None:
    both = {
        "namespaceLabels": {"kubernetes.io/metadata.name": "payments"},
        "podLabels": {"app.kubernetes.io/name": "ledger"},
        "ports": [{"port": 8443}],
    }
    namespace_only = {"namespaceLabels": {"team": "data"}, "ports": [{"port": 9000}]}
    pods_here = {"podLabels": {"app": "cache"}, "ports": [{"port": 6379}]}
    stack = parsed(with_egress("prod", both, namespace_only, pods_here))
    rules = network_policy_spec(stack.apps[0], stack, stack.neighbours_of(stack.apps[0]))["egress"][1:]
    assert [rule["to"] for rule in rules] == [
        [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "payments"}},
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ledger"}},
            }
        ],
        [{"namespaceSelector": {"matchLabels": {"team": "data"}}}],
        [{"podSelector": {"matchLabels": {"app": "cache"}}}],
    ]


def test_egress_to_an_app_by_name_opens_both_sides_on_the_callee_port() -> None:
    raw = minimal_config("dev", egress=[{"app": "api"}])
    raw["apps"].append({"name": "api", "image": "ghcr.io/acme/api:1.0.0", "port": 9090, "replicas": 2})
    stack = parsed(raw)
    web, api = stack.apps
    assert network_policy_spec(web, stack, stack.neighbours_of(web))["egress"][1] == {
        "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}}}],
        "ports": [{"protocol": "TCP", "port": 9090}],
    }
    assert network_policy_spec(api, stack, stack.neighbours_of(api))["ingress"] == [
        {
            "from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}}}],
            "ports": [{"protocol": "TCP", "port": 9090}],
        }
    ]
    # Named on both sides (allowFrom and egress): one rule, not two.
    raw["apps"][1]["allowFrom"] = ["web"]
    stack = parsed(raw)
    assert len(network_policy_spec(stack.apps[0], stack, stack.neighbours_of(stack.apps[0]))["egress"]) == 2


BAD: list[tuple[dict[str, Any], str]] = [
    (
        {"cidr": "10.40.0.1/24", "ports": [{"port": 5432}]},
        "hastack:apps[0].egress[0].cidr: must be a CIDR block",
    ),
    (
        {"cidr": "10.40.0.0/33", "ports": [{"port": 5432}]},
        "hastack:apps[0].egress[0].cidr: must be a CIDR block",
    ),
    ({"cidr": "10.40.0.0/24", "ports": [{"port": 0}]}, "hastack:apps[0].egress[0].ports[0].port: "),
    ({"cidr": "10.40.0.0/24", "ports": [{"port": 65536}]}, "hastack:apps[0].egress[0].ports[0].port: "),
    ({"cidr": "10.40.0.0/24", "ports": [{"port": 5432, "protocol": "ICMP"}]}, "ports[0].protocol: "),
    ({"cidr": "10.40.0.0/24", "ports": []}, "hastack:apps[0].egress[0].ports: name the ports"),
    ({"cidr": "10.40.0.0/24"}, "hastack:apps[0].egress[0].ports: name the ports"),
    (
        {"cidr": "10.40.0.0/24", "except": ["10.41.0.0/28"], "ports": [{"port": 1}]},
        "hastack:apps[0].egress[0].except[0]: must be a smaller block inside 10.40.0.0/24, got '10.41.0",
    ),
    (
        {"cidr": "10.40.0.0/24", "except": ["10.40.0.0/24"], "ports": [{"port": 1}]},
        "hastack:apps[0].egress[0].except[0]: must be a smaller block inside",
    ),
    (
        {"podLabels": {"app": "x"}, "except": ["10.0.0.0/8"], "ports": [{"port": 1}]},
        "hastack:apps[0].egress[0].except: only applies to a cidr destination",
    ),
    (
        {"cidr": "10.0.0.0/8", "podLabels": {"app": "x"}, "ports": [{"port": 1}]},
        "hastack:apps[0].egress[0]: set exactly one destination",
    ),
    ({"ports": [{"port": 1}]}, "hastack:apps[0].egress[0]: set exactly one destination"),
    (
        {"podLabels": {"-bad": "x"}, "ports": [{"port": 1}]},
        "hastack:apps[0].egress[0].podLabels.-bad: must be a Kubernetes label key",
    ),
    (
        {"namespaceLabels": {"Example.COM/team": "x"}, "ports": [{"port": 1}]},
        "hastack:apps[0].egress[0].namespaceLabels.Example.COM/team: must be a Kubernetes label key",
    ),
    (
        {"podLabels": {"app": "not valid!"}, "ports": [{"port": 1}]},
        "hastack:apps[0].egress[0].podLabels.app: must be a Kubernetes label value",
    ),
    (
        {"podLabels": {}, "ports": [{"port": 1}]},
        "hastack:apps[0].egress[0].podLabels: select pods by at least",
    ),
    ({"app": "web"}, "hastack:apps[0].egress[0].app: must name another app of this stack (none), got 'web'"),
    ({"app": "api", "ports": [{"port": 1}]}, "hastack:apps[0].egress[0].app: must name another app"),
    (
        {"cidr": "10.0.0.0/8", "ports": [{"port": 1}], "reason": "x"},
        "hastack:apps[0].egress[0].reason: only for an open destination",
    ),
    ({"cidr": "10.0.0.0/8", "ports": [{"port": 1}], "to": "x"}, "hastack:apps[0].egress[0].to: unknown key"),
]


@pytest.mark.parametrize(("entry", "fragment"), BAD)
def test_bad_egress_names_the_key_path(entry: dict[str, Any], fragment: str) -> None:
    found = problems(with_egress("dev", entry))
    assert any(fragment in p for p in found), found


@pytest.mark.parametrize(
    ("entry", "what"),
    [
        ({"cidr": "0.0.0.0/0", "ports": [{"port": 443}]}, "every address"),
        ({"cidr": "::/0", "ports": [{"port": 443}]}, "every address"),
        ({"namespaceLabels": {}, "podLabels": {"app": "x"}, "ports": [{"port": 443}]}, "every namespace"),
    ],
)
def test_prod_refuses_open_egress_without_a_reason(entry: dict[str, Any], what: str) -> None:
    (problem,) = problems(with_egress("prod", entry))
    assert problem.startswith(
        f"hastack:apps[0].egress[0]: prod refuses egress to {what} unless reason says why"
    )
    parsed(with_egress("dev", entry))  # dev lets it through
    stack = parsed(with_egress("prod", {**entry, "reason": "payment provider rotates its addresses"}))
    assert stack.apps[0].egress[0].is_open()


def test_open_egress_reason_is_annotated_on_the_network_policy() -> None:
    entry = {
        "cidr": "0.0.0.0/0",
        "ports": [{"port": 443}],
        "reason": "payment provider rotates its addresses",
    }
    run = run_config(with_egress("prod", entry, DATABASE), "prod")
    (policy,) = [p for p in objects(run, "NetworkPolicy") if p["spec"]["podSelector"] != {}]
    assert policy["metadata"]["annotations"] == {
        OPEN_EGRESS_ANNOTATION: "payment provider rotates its addresses"
    }
    assert policy["spec"]["egress"][1]["to"] == [{"ipBlock": {"cidr": "0.0.0.0/0"}}]
    assert policy["spec"]["egress"][2]["to"] == [{"ipBlock": {"cidr": "10.40.0.0/24"}}]


def test_no_annotation_without_open_egress() -> None:
    run = run_config(with_egress("prod", DATABASE), "prod")
    (policy,) = [p for p in objects(run, "NetworkPolicy") if p["spec"]["podSelector"] != {}]
    assert "annotations" not in policy["metadata"]


def test_every_namespace_is_rendered_as_the_api_server_stores_it() -> None:
    """`namespaceSelector: {}`, never `{matchLabels: {}}`: the server folds that (a diff every preview)."""
    entry = {"namespaceLabels": {}, "podLabels": {"app": "metrics"}, "ports": [{"port": 9090}]}
    stack = parsed(with_egress("dev", entry))
    rule = network_policy_spec(stack.apps[0], stack, stack.neighbours_of(stack.apps[0]))["egress"][-1]
    assert rule["to"] == [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "metrics"}}}]
