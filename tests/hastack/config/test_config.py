"""Config validation: every bad input names the stack file, the key path, the value and what is allowed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from hastack.config import (
    ConfigError,
    DisruptionBudgetConfig,
    load,
    parse_quantity,
    raw_from_engine,
    validate,
)
from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.common.project import validated_stack_config
from hastack_tools.dev.mockrun import run_function
from tests.conftest import minimal_config, parsed


def problems_of(raw: dict[str, Any], source: str = "Pulumi.test.yaml") -> list[str]:
    with pytest.raises(ConfigError) as caught:
        validate(copy.deepcopy(raw), source)
    return caught.value.problems


def with_app(environment: str = "dev", **app: Any) -> dict[str, Any]:
    return minimal_config(environment, **app)


def with_stack(environment: str = "dev", **stack: Any) -> dict[str, Any]:
    raw = minimal_config(environment)
    raw.update(stack)
    return raw


BAD_CONFIGS: list[tuple[str, dict[str, Any], str, str]] = [
    # (case id, config, key path, fragment of the message)
    ("unknown top-level key", with_stack(namepsace="x"), "hastack:namepsace", "unknown key"),
    ("typo in app key", with_app(replica=2), "hastack:apps[0].replica", "did you mean 'replicas'"),
    (
        "typo in nested key",
        with_app(autoscaling={"minReplicas": 2, "maxReplica": 4}),
        "hastack:apps[0].autoscaling.maxReplica",
        "allowed keys: minReplicas, maxReplicas",
    ),
    (
        "bad environment",
        with_stack(environment="production"),
        "hastack:environment",
        "must be one of dev, staging, prod (did you mean 'prod'?)",
    ),
    ("default namespace", with_stack(namespace="default"), "hastack:namespace", "shared system namespace"),
    ("namespace not DNS", with_stack(namespace="Shop_NS"), "hastack:namespace", "DNS-1123 label"),
    ("app name not DNS-1035", with_app(name="1web"), "hastack:apps[0].name", "DNS-1035 label"),
    ("privileged port", with_app(port=80), "hastack:apps[0].port", "between 1024 and 65535"),
    (
        "replicas below dev floor",
        with_app(replicas=1),
        "hastack:apps[0].replicas",
        "dev needs at least 2 replicas",
    ),
    (
        "replicas below prod floor",
        with_app("prod", replicas=2),
        "hastack:apps[0].replicas",
        "prod needs at least 3",
    ),
    (
        "HPA floor below prod floor",
        with_app(
            "prod",
            replicas=None,
            autoscaling={"minReplicas": 2, "maxReplicas": 6, "targetCPUUtilization": 70},
        ),
        "hastack:apps[0].autoscaling.minReplicas",
        "prod needs at least 3 replicas, got 2",
    ),
    (
        "HPA max not above min",
        with_app(replicas=None, autoscaling={"minReplicas": 3, "maxReplicas": 3, "targetCPUUtilization": 70}),
        "hastack:apps[0].autoscaling.maxReplicas",
        "greater than minReplicas (3)",
    ),
    (
        "HPA without a target",
        with_app(replicas=None, autoscaling={"minReplicas": 2, "maxReplicas": 4}),
        "hastack:apps[0].autoscaling",
        "targetCPUUtilization or targetMemoryUtilization",
    ),
    (
        "HPA target out of range",
        with_app(
            replicas=None, autoscaling={"minReplicas": 2, "maxReplicas": 4, "targetCPUUtilization": 150}
        ),
        "hastack:apps[0].autoscaling.targetCPUUtilization",
        "must be a whole number from 1 to 100 (percent, without %), got 150",
    ),
    (
        "replicas and autoscaling together",
        with_app(autoscaling={"minReplicas": 2, "maxReplicas": 4, "targetCPUUtilization": 60}),
        "hastack:apps[0].replicas",
        "remove one of them",
    ),
    (
        "latest tag",
        with_app(image="ghcr.io/acme/web:latest"),
        "hastack:apps[0].image",
        ":latest is not repeatable",
    ),
    ("untagged image", with_app(image="ghcr.io/acme/web"), "hastack:apps[0].image", "needs a tag or digest"),
    (
        "prod tag instead of digest",
        with_app("prod", image="ghcr.io/acme/web:1.0"),
        "hastack:apps[0].image",
        "digest",
    ),
    (
        "limit below request",
        with_app(resources={"requests": {"memory": "512Mi"}, "limits": {"memory": "256Mi"}}),
        "hastack:apps[0].resources.limits.memory",
        "at least the request 512Mi",
    ),
    (
        "bad quantity",
        with_app(resources={"requests": {"cpu": "lots"}}),
        "hastack:apps[0].resources.requests.cpu",
        "quantity",
    ),
    (
        "liveness equals readiness",
        with_app(probes={"readiness": {"path": "/health"}, "liveness": {"path": "/health"}}),
        "hastack:apps[0].probes.liveness.path",
        "must differ from the readiness path",
    ),
    (
        "probe path relative",
        with_app(probes={"readiness": {"path": "health"}}),
        "hastack:apps[0].probes.readiness.path",
        "absolute URL path",
    ),
    (
        "PDB allows no eviction",
        with_app(disruptionBudget={"minAvailable": "100%"}),
        "hastack:apps[0].disruptionBudget.minAvailable",
        "allows no eviction at the replica floor of 2",
    ),
    (
        "PDB min equals floor",
        with_app(replicas=3, disruptionBudget={"minAvailable": 3}),
        "hastack:apps[0].disruptionBudget.minAvailable",
        "allows no eviction",
    ),
    (
        "prod PDB too loose",
        with_app("prod", disruptionBudget={"maxUnavailable": "50%"}),
        "hastack:apps[0].disruptionBudget.maxUnavailable",
        "prod keeps at least 2 pod(s) available",
    ),
    (
        "PDB with both fields",
        with_app(disruptionBudget={"maxUnavailable": 1, "minAvailable": 1}),
        "hastack:apps[0].disruptionBudget",
        "exactly one of maxUnavailable or minAvailable",
    ),
    (
        "PDB percent out of range",
        with_app(disruptionBudget={"maxUnavailable": "120%"}),
        "hastack:apps[0].disruptionBudget.maxUnavailable",
        "between 0% and 100%",
    ),
    (
        "bad host",
        with_app(ingress={"hosts": ["Shop.Example"]}),
        "hastack:apps[0].ingress.hosts[0]",
        "fully qualified",
    ),
    (
        "algorithm unsupported by controller",
        with_app(ingress={"hosts": ["shop.example.com"], "loadBalancing": "least-connections"}),
        "hastack:apps[0].ingress.loadBalancing",
        "ingress-nginx does not support 'least-connections'; it supports round-robin, ewma, consistent-hash",
    ),
    (
        "unknown algorithm",
        with_app(ingress={"hosts": ["shop.example.com"], "loadBalancing": "random"}),
        "hastack:apps[0].ingress.loadBalancing",
        "must be one of round-robin, least-connections, ewma, consistent-hash, got 'random'",
    ),
    (
        "burst not a multiple of rps for nginx",
        with_app(ingress={"hosts": ["shop.example.com"], "rateLimit": {"rps": 10, "burst": 25}}),
        "hastack:apps[0].ingress.rateLimit.burst",
        "use 20 or 30",
    ),
    (
        "burst below rps",
        with_app(ingress={"hosts": ["shop.example.com"], "rateLimit": {"rps": 10, "burst": 5}}),
        "hastack:apps[0].ingress.rateLimit.burst",
        "at least rps (10)",
    ),
    (
        "self-signed in prod",
        with_stack("prod", ingress={"className": "nginx", "tls": {"mode": "self-signed"}}),
        "hastack:ingress.tls.mode",
        "prod allows cert-manager, secret",
    ),
    (
        "cert-manager without issuer",
        with_stack(ingress={"className": "nginx", "tls": {"mode": "cert-manager"}}),
        "hastack:ingress.tls.issuer",
        "needs issuer",
    ),
    (
        "secret mode with issuer",
        with_stack(
            ingress={"className": "nginx", "tls": {"mode": "secret", "secretName": "t", "issuer": "x"}}
        ),
        "hastack:ingress.tls.issuer",
        "not used by mode secret",
    ),
    (
        "unknown ingress class",
        with_stack(ingress={"className": "contour", "tls": {"mode": "self-signed"}}),
        "hastack:ingress.className",
        "nginx (ingress-nginx), haproxy (haproxy)",
    ),
    (
        "unknown controller",
        with_stack(ingress={"className": "edge", "controller": "envoy", "tls": {"mode": "self-signed"}}),
        "hastack:ingress.controller",
        "known: ingress-nginx, haproxy",
    ),
    (
        "ingress without stack ingress",
        {**with_app(), "ingress": None},
        "hastack:ingress",
        "required by the apps exposed through an Ingress (web); set className and tls",
    ),
    (
        "env name invalid",
        with_app(env={"LOG-LEVEL": "x"}),
        "hastack:apps[0].env.LOG-LEVEL",
        "environment variable name",
    ),
    ("env value not a string", with_app(env={"WORKERS": 4}), "hastack:apps[0].env.WORKERS", 'quote it, "4"'),
    (
        "env and generated secret clash",
        with_app(env={"TOKEN": "x"}, generatedSecrets=["TOKEN"]),
        "hastack:apps[0].env.TOKEN",
        "also listed in generatedSecrets",
    ),
    (
        "allowFrom unknown app",
        with_app(allowFrom=["api"]),
        "hastack:apps[0].allowFrom[0]",
        "must name another app",
    ),
    (
        "grace shorter than preStop",
        with_app(shutdown={"preStopSeconds": 30, "terminationGracePeriodSeconds": 20}),
        "hastack:apps[0].shutdown.terminationGracePeriodSeconds",
        "exceed preStopSeconds (30)",
    ),
    ("root user", with_app(runAsUser=0), "hastack:apps[0].runAsUser", "a whole number from 1 to"),
    *(
        (f"low uid in {env}", with_app(env, runAsUser=5000), "hastack:apps[0].runAsUser", "at least 10000")
        for env in ("dev", "staging", "prod")
    ),
    (
        "milli-bytes of memory",
        with_app(resources={"limits": {"memory": "512m"}}),
        "hastack:apps[0].resources.limits.memory",
        "the unit 'm' makes no sense for memory (m is milli",
    ),
    (
        "binary cpu",
        with_app(resources={"requests": {"cpu": "1Gi"}}),
        "hastack:apps[0].resources.requests.cpu",
        "cores or millicores, such as 0.5, 2 or 250m; the unit 'Gi'",
    ),
    (
        "fraction of a millicore",
        with_app(resources={"requests": {"cpu": "0.0005"}}),
        "hastack:apps[0].resources.requests.cpu",
        "whole number of millicores",
    ),
    (
        "fraction of a byte",
        with_app(resources={"requests": {"ephemeralStorage": "0.5"}}),
        "hastack:apps[0].resources.requests.ephemeralStorage",
        "whole number of bytes",
    ),
    (
        "ephemeral storage limit below its request",
        with_app(resources={"requests": {"ephemeralStorage": "2Gi"}}),
        "hastack:apps[0].resources.limits.ephemeralStorage",
        "at least the request 2Gi",
    ),
    (
        "system priority class",
        with_app(priorityClassName="system-cluster-critical"),
        "hastack:apps[0].priorityClassName",
        "reserved for cluster components",
    ),
    (
        "priority class not a DNS name",
        with_app(priorityClassName="High"),
        "hastack:apps[0].priorityClassName",
        "DNS-1123 subdomain",
    ),
    (
        "staging tag",
        with_app("staging", image="ghcr.io/acme/web:1.0.0"),
        "hastack:apps[0].image",
        "staging needs a digest-pinned image",
    ),
    (
        "staging self-signed",
        with_stack("staging", ingress={"className": "nginx", "tls": {"mode": "self-signed"}}),
        "hastack:ingress.tls.mode",
        "staging allows cert-manager, secret",
    ),
    ("no apps", with_stack(apps=[]), "hastack:apps", "at least 1 item"),
    ("replicas as string", with_app(replicas="3"), "hastack:apps[0].replicas", "write it without quotes: 3"),
]


@pytest.mark.parametrize(("case", "raw", "path", "fragment"), BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_names_key_path_and_rule(case: str, raw: dict[str, Any], path: str, fragment: str) -> None:
    problems = problems_of(raw, "Pulumi.prod.yaml")
    matching = [p for p in problems if p.startswith(f"{path}: ")]
    assert matching, f"{case}: no problem at {path}; got {problems}"
    assert any(fragment in p for p in matching), f"{case}: {fragment!r} not in {matching}"
    assert all(", got " in p or "required key" in p or "unknown key" in p for p in matching)


def test_duplicate_app_names_are_rejected() -> None:
    raw = minimal_config()
    raw["apps"].append({**raw["apps"][0], "ingress": None})
    problems = problems_of(raw)
    assert any(
        p.startswith("hastack:apps[1].name: must be unique in the stack (also apps[0])") for p in problems
    )


def test_same_route_in_two_apps_is_rejected() -> None:
    raw = minimal_config()
    raw["apps"].append({**raw["apps"][0], "name": "shop2"})
    problems = problems_of(raw)
    assert any("shop.example.com/ is already routed to web" in p for p in problems)


def test_error_message_names_stack_file_and_every_problem() -> None:
    raw = with_app("prod", replicas=2, image="ghcr.io/acme/web:1.0")
    with pytest.raises(ConfigError) as caught:
        validate(raw, "Pulumi.prod.yaml")
    text = str(caught.value)
    assert "Pulumi.prod.yaml: hastack:apps[0].replicas: prod needs at least 3 replicas, got 2" in text
    assert "Pulumi.prod.yaml: hastack:apps[0].image:" in text
    assert text.startswith("invalid stack config (")


def test_valid_config_gets_documented_defaults() -> None:
    stack = parsed(minimal_config())
    app = stack.apps[0]
    assert stack.cluster_domain == "cluster.local"
    assert app.resources.requests.cpu == "100m"
    assert app.resources.limits.memory == "256Mi"
    assert app.probes.readiness.path == "/readyz"
    assert app.probes.liveness.path == "/livez"
    assert app.disruption_budget.max_unavailable == 1
    assert app.ingress is not None and app.ingress.paths == ["/"]
    assert app.ingress.load_balancing == "round-robin"
    assert app.run_as_user == 10001
    assert app.replica_floor() == 2


def test_overriding_one_quantity_keeps_the_other_default() -> None:
    app = parsed(with_app(resources={"requests": {"cpu": "300m"}})).apps[0]
    assert app.resources.requests.cpu == "300m"
    assert app.resources.requests.memory == "128Mi"


def test_ephemeral_storage_and_priority_default_to_the_profile() -> None:
    stack = parsed(minimal_config("prod"))
    app = stack.apps[0]
    assert app.resources.requests.ephemeral_storage is None
    quantities = app.resource_quantities(stack.profile)
    assert quantities["requests"]["ephemeral-storage"] == stack.profile.ephemeral_storage_request == "128Mi"
    assert quantities["limits"]["ephemeral-storage"] == stack.profile.ephemeral_storage_limit == "1Gi"
    assert app.priority_class(stack.profile) is None
    own = parsed(
        with_app(resources={"limits": {"ephemeralStorage": "2Gi"}}, priorityClassName="web-high")
    ).apps[0]
    assert own.resource_quantities(stack.profile)["limits"]["ephemeral-storage"] == "2Gi"
    assert own.priority_class(stack.profile) == "web-high"


def test_committed_stacks_are_valid() -> None:
    """As the engine reads them (dev holds an example stack secret, decrypted with the local passphrase)."""
    for stack in ("dev", "staging", "prod"):
        config = validated_stack_config(REPO_ROOT, stack)
        assert config.environment == stack


@pytest.mark.parametrize(
    ("text", "expected"),
    [("250m", "0.25"), ("1", "1"), ("1.5", "1.5"), ("512Mi", str(512 * 2**20)), ("1G", str(10**9))],
)
def test_parse_quantity(text: str, expected: str) -> None:
    assert str(parse_quantity(text).normalize()) == str(type(parse_quantity(text))(expected).normalize())


@pytest.mark.parametrize(
    ("resource", "good", "bad"),
    [
        ("cpu", ["250m", "0.5", "2", "1000m"], ["1Gi", "1k", "512Mi", "0.5m", "1e3", "-1"]),
        ("memory", ["512Mi", "1Gi", "500M", "1048576", "1.5Ki"], ["512m", "1.5", "100u", "1 Gi", "lots"]),
        ("ephemeral-storage", ["64Mi", "2G"], ["64m", "0.1"]),
    ],
)
def test_quantities_take_only_the_units_of_their_resource(
    resource: str, good: list[str], bad: list[str]
) -> None:
    from hastack.config.types import QUANTITY_FORMS, quantity_problem

    assert [q for q in good if quantity_problem(resource, q)] == []
    for quantity in bad:
        problem = quantity_problem(resource, quantity)
        assert problem is not None and QUANTITY_FORMS[resource] in problem, quantity
    assert quantity_problem(resource, "0") == "must be greater than zero"


@pytest.mark.parametrize(
    ("budget", "replicas", "allowed"),
    [
        ({"maxUnavailable": 1}, 3, 1),
        ({"maxUnavailable": "25%"}, 3, 1),  # ceil(0.75)
        ({"maxUnavailable": "50%"}, 5, 3),  # ceil(2.5)
        ({"minAvailable": "50%"}, 5, 2),  # 5 - ceil(2.5)
        ({"minAvailable": 2}, 3, 1),
        ({"minAvailable": "100%"}, 4, 0),
    ],
)
def test_disruptions_allowed_round_like_kubernetes(
    budget: dict[str, Any], replicas: int, allowed: int
) -> None:
    assert DisruptionBudgetConfig.model_validate(budget).disruptions_allowed(replicas) == allowed


def test_engine_strings_are_decoded_and_other_namespaces_ignored() -> None:
    raw, problems = raw_from_engine(
        {"hastack:apps": '[{"name": "web"}]', "hastack:environment": "dev", "kubernetes:context": "x"}
    )
    assert raw == {"apps": [{"name": "web"}], "environment": "dev"}
    assert problems == []
    _, problems = raw_from_engine({"hastack:apps": "not json"})
    assert problems == ["hastack:apps: must be a structured value (object or list), got 'not json'"]


def test_invalid_stack_registers_no_resource() -> None:
    """The program fails in config loading, before the first resource registration."""
    import json

    raw = with_app("prod", replicas=2)
    config = {f"hastack:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}

    def program() -> None:
        load("prod")
        pytest.fail("load() accepted an invalid config")

    with pytest.raises(ConfigError, match=r"Pulumi\.prod\.yaml: hastack:apps\[0\]\.replicas"):
        run_function(program, project="hastack", stack="prod", config=config)
