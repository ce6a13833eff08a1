"""AppGroup: one declaration per call gives both ends of it; IsolatedNamespace from plain arguments."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from hastack import AppGroup, IsolatedNamespace
from hastack.args import ArgumentError, EnvironmentArgs
from hastack_tools.dev.mockrun import MockRun, run_function
from tests.conftest import objects

DIGEST = "@sha256:" + "d" * 64
PROD: EnvironmentArgs = {
    "name": "prod",
    "ingress": {"className": "nginx", "tls": {"mode": "cert-manager", "issuer": "letsencrypt"}},
}
SCALING = {"minReplicas": 3, "maxReplicas": 6, "targetCPUUtilization": 70}


def app(name: str, port: int, **more: Any) -> dict[str, Any]:
    return {
        "name": name,
        "image": f"ghcr.io/acme/{name}{DIGEST}",
        "port": port,
        "autoscaling": SCALING,
        **more,
    }


def group_args(*apps: dict[str, Any], **more: Any) -> Any:
    return {"environment": PROD, "namespace": "shop", "apps": list(apps), **more}


def run(args: Any) -> MockRun:
    def program() -> None:
        group = AppGroup("shop", args)
        pulumi.export("dns", group.service_dns_names)
        pulumi.export("namespace", group.namespace)

    return run_function(program, stack="prod")


def policy_of(result: MockRun, name: str) -> dict[str, Any]:
    (found,) = [
        p
        for p in objects(result, "NetworkPolicy")
        if p["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name") == name
    ]
    return found


def test_an_app_admitted_by_allow_from_gets_the_egress_to_its_callee() -> None:
    result = run(group_args(app("api", 9090, allowFrom=["web"]), app("web", 8080)))
    web, api = policy_of(result, "web"), policy_of(result, "api")
    to_api = {
        "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}}}],
        "ports": [{"protocol": "TCP", "port": 9090}],
    }
    assert to_api in web["spec"]["egress"]
    assert {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}}} in api["spec"]["ingress"][0][
        "from"
    ]
    assert all(rule["to"] != to_api["to"] for rule in api["spec"]["egress"]), (
        "the callee gets no egress to its caller"
    )
    assert result.outputs == {
        "dns": {"api": "api.shop.svc.cluster.local", "web": "web.shop.svc.cluster.local"},
        "namespace": "shop",
    }


def test_the_group_makes_the_namespace_and_its_default_deny_under_it() -> None:
    result = run(group_args(app("api", 9090, allowFrom=["web"]), app("web", 8080)))
    (namespace,) = objects(result, "Namespace")
    assert namespace["metadata"]["name"] == "shop"
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    deny = [p for p in objects(result, "NetworkPolicy") if p["spec"]["podSelector"] == {}]
    assert [d["spec"]["policyTypes"] for d in deny] == [["Ingress", "Egress"]]
    by_urn = {r.urn: r for r in result.resources}
    (group,) = [r for r in result.resources if r.type == "hastack:index:AppGroup"]
    children = {
        by_urn[r.parent].type
        for r in result.resources
        if r.parent in by_urn and by_urn[r.parent].type.startswith("hastack:")
    }
    assert {
        "hastack:index:AppGroup",
        "hastack:index:IsolatedNamespace",
        "hastack:index:HighlyAvailableApp",
    } <= children
    assert {r.type for r in result.resources if r.parent == group.urn} == {
        "hastack:index:IsolatedNamespace",
        "hastack:index:HighlyAvailableApp",
    }


def test_egress_to_an_app_by_name_opens_the_callee_to_the_caller_too() -> None:
    result = run(group_args(app("api", 9090), app("web", 8080, egress=[{"app": "api"}])))
    api = policy_of(result, "api")
    assert {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}}} in api["spec"]["ingress"][0][
        "from"
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            group_args(app("api", 9090, allowFrom=["wbe"]), app("web", 8080)),
            [
                "AppGroup(shop): args.apps[0].allowFrom[0]: must name another app of this group (web), "
                "got 'wbe'"
            ],
        ),
        (
            group_args(app("api", 80, allowFrom=["web"]), app("web", 8080)),
            [
                "AppGroup(shop): args.apps[0].port: must be between 1024 and 65535: pods run as non-root "
                "with every capability dropped and cannot bind lower ports, got 80"
            ],
        ),
        (
            group_args(app("api", 9090), app("api", 8080)),
            ["AppGroup(shop): args.apps[1].name: must be unique in the group (also apps[0]), got 'api'"],
        ),
        (
            group_args(app("api", 9090), app("web", 8080), namespace="kube-system"),
            ["AppGroup(shop): args.namespace: must not be a shared system namespace"],
        ),
        (
            group_args(app("api", 9090), app("web", 8080), environment={**PROD, "name": "qa"}),
            ["AppGroup(shop): args.environment.name: "],
        ),
    ],
)
def test_every_problem_once_with_its_path_in_the_group(args: Any, expected: list[str]) -> None:
    """One line per problem: a bad callee port is not also the caller's `calls`, a bad environment
    not once per app."""
    with pytest.raises(ArgumentError) as raised:
        AppGroup("shop", args)
    lines = [line.strip() for line in str(raised.value).splitlines()[1:]]
    assert len(lines) == len(expected), lines
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start), line


def test_isolated_namespace_takes_plain_arguments() -> None:
    def program() -> None:
        namespace = IsolatedNamespace("shop", {"environment": PROD, "namespace": "shop"})
        pulumi.export("name", namespace.name)

    result = run_function(program, stack="prod")
    (namespace,) = objects(result, "Namespace")
    assert namespace["metadata"]["labels"]["hastack.dev/environment"] == "prod"
    assert result.outputs["name"] == "shop"
    with pytest.raises(
        ArgumentError, match=r"IsolatedNamespace\(x\): args.namespace: must be a DNS-1123 label"
    ):
        IsolatedNamespace("x", {"environment": PROD, "namespace": "Shop"})
    with pytest.raises(
        ArgumentError, match=r"args.namespce: unknown argument; allowed: environment, namespace"
    ):
        IsolatedNamespace("x", {"environment": PROD, "namespce": "shop"})  # type: ignore[arg-type]
