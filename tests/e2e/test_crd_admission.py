"""The custom resources hastack renders are admitted by the real controllers' CRDs.

cluster/up.sh installs the upstream CRDs of Gateway API, Envoy Gateway and cert-manager
(cluster/crds.sh, from their Go modules), so the API server judges our HTTPRoutes and
BackendTrafficPolicies (load balancing, rate limits, passive health checks, retries, timeouts) by
the same structural schemas and CEL rules as a real cluster would. No engine: the program runs
under mocks (as `make render` runs it); the objects are applied server-side with strict field
validation in a fresh namespace and read back. The last tests prove the schemas are real: objects
with a field or a value our config never produces are refused.
"""

from __future__ import annotations

import copy
import json
import subprocess
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from hastack_tools.dev.mockrun import MockRun
from tests.conftest import minimal_config, objects, run_config, stack_file_config
from tests.e2e.kube import Cluster, cluster_vars, scratch_namespace

FIELD_MANAGER = "hastack-e2e"
GATEWAY = {"name": "public", "namespace": "gateway-system", "implementation": "envoy-gateway"}


def gateway_app_config(ingress: dict[str, Any], **app: Any) -> dict[str, Any]:
    """A prod app on the Gateway path with the given `ingress` keys (and other app keys)."""
    hosts = {"hosts": ["shop.example.com", "www.shop.example.com"], "paths": ["/", "/api"]}
    raw = minimal_config("prod", exposure="gateway", ingress={**hosts, **ingress}, **app)
    raw["gateway"] = dict(GATEWAY)
    return raw


CONFIGS: dict[str, dict[str, Any]] = {
    "prod-stack": stack_file_config("prod"),
    "consistent-hash-canary-all-resilience": gateway_app_config(
        {
            "loadBalancing": "consistent-hash",
            "rateLimit": {"rps": 30},
            "backendHealth": {},
            "retries": {"attempts": 3, "conditions": ["5xx", "reset"], "perTryTimeoutSeconds": 2},
            "timeouts": {"connectSeconds": 1, "requestSeconds": 10},
        },
        canary={"image": "ghcr.io/acme/web@sha256:" + "c" * 64, "weight": 10},
    ),
    "round-robin-nothing-else": gateway_app_config({"loadBalancing": "round-robin"}),
    "lowest-values-the-config-allows": gateway_app_config(
        {
            "rateLimit": {"rps": 1},
            "backendHealth": {"consecutiveErrors": 1, "ejectionSeconds": 1, "maxEjectedPercent": 1},
            "retries": {"attempts": 1, "conditions": ["gateway-error"], "perTryTimeoutSeconds": 1},
            "timeouts": {"connectSeconds": 1, "requestSeconds": 2},
        }
    ),
    "highest-values-the-config-allows": gateway_app_config(
        {
            "rateLimit": {"rps": 100_000},
            "backendHealth": {"consecutiveErrors": 100, "ejectionSeconds": 3600, "maxEjectedPercent": 100},
            "retries": {"attempts": 10, "conditions": ["connect-failure"], "perTryTimeoutSeconds": 300},
            "timeouts": {"connectSeconds": 3600, "requestSeconds": 3600},
        }
    ),
}


@cache
def program(config: str) -> MockRun:
    """The real program under mocks with one of CONFIGS (run once per session)."""
    return run_config(CONFIGS[config], "prod")


def rendered(config: str, kind: str) -> list[dict[str, Any]]:
    return objects(program(config), kind)


def missing_from(sent: Any, stored: Any, path: str = "") -> list[str]:
    """Where `stored` lacks or changed what was sent (the server may add defaults, never drop or change)."""
    if isinstance(sent, dict):
        if not isinstance(stored, dict):
            return [f"{path}: sent an object, stored {stored!r}"]
        return [
            p for key, value in sent.items() for p in missing_from(value, stored.get(key), f"{path}.{key}")
        ]
    if isinstance(sent, list):
        if not isinstance(stored, list) or len(stored) != len(sent):
            return [f"{path}: sent {sent!r}, stored {stored!r}"]
        return [
            p
            for i, (a, b) in enumerate(zip(sent, stored, strict=True))
            for p in missing_from(a, b, f"{path}[{i}]")
        ]
    return [] if sent == stored else [f"{path}: sent {sent!r}, stored {stored!r}"]


def server_side_apply(
    cluster: Cluster, manifest: dict[str, Any], *, dry_run: bool = False
) -> subprocess.CompletedProcess[str]:
    """`kubectl apply --server-side` (strict field validation): the CompletedProcess."""
    args = ["apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "--validate=strict", "-f", "-"]
    return cluster.kubectl(
        *args, *(["--dry-run=server"] if dry_run else []), input=json.dumps(manifest), check=False
    )


def admitted(cluster: Cluster, manifest: dict[str, Any]) -> None:
    """Applies `manifest` and asserts the API server stored it as sent (defaults may be added)."""
    applied = server_side_apply(cluster, manifest)
    what = f"{manifest['kind']} {manifest['metadata']['name']}"
    assert applied.returncode == 0, f"{what} refused by the real CRD schema:\n{applied.stderr}"
    meta = manifest["metadata"]
    scope = ["-n", meta["namespace"]] if "namespace" in meta else []
    group = manifest["apiVersion"].split("/")[0]
    stored: dict[str, Any] = cluster.kubectl_json(
        *scope, "get", f"{manifest['kind'].lower()}.{group}", meta["name"]
    )
    assert missing_from(manifest["spec"], stored["spec"], "spec") == [], what


@pytest.fixture
def namespace(cluster: Cluster) -> Iterator[str]:
    with scratch_namespace(cluster, "e2e-crd") as ns:
        yield ns


def into(namespace: str, manifest: dict[str, Any]) -> dict[str, Any]:
    moved = copy.deepcopy(manifest)
    moved["metadata"]["namespace"] = namespace
    return moved


def crd_files() -> list[Path]:
    return sorted(Path(cluster_vars()["crds"]).glob("*.yaml"))


def test_the_installed_crds_are_the_pinned_upstream_ones(cluster: Cluster) -> None:
    """Every CRD of cluster/crds.sh is served with its upstream schema (not a permissive stand-in)."""
    pins = cluster_vars()
    files = crd_files()
    assert len(files) == 11, files  # Gateway API standard (6), Envoy Gateway (2), cert-manager (3)
    for path in files:
        upstream = yaml.safe_load(path.read_text())
        served = cluster.kubectl_json("get", "crd", upstream["metadata"]["name"])
        assert {v["name"]: v["schema"] for v in served["spec"]["versions"]} == {
            v["name"]: v["schema"] for v in upstream["spec"]["versions"]
        }, path.name
        for version in served["spec"]["versions"]:
            assert not version["schema"]["openAPIV3Schema"].get("x-kubernetes-preserve-unknown-fields")
        if served["spec"]["group"] == "gateway.networking.k8s.io":
            annotations = served["metadata"]["annotations"]
            assert annotations["gateway.networking.k8s.io/bundle-version"] == pins["gateway_api"]
            assert annotations["gateway.networking.k8s.io/channel"] == "standard"
        conditions = {c["type"]: c["status"] for c in served["status"]["conditions"]}
        assert conditions["Established"] == "True" and conditions.get("NonStructuralSchema") is None
    sources = (Path(pins["crds"]) / "SOURCES").read_text()
    for module, pin in (
        ("sigs.k8s.io/gateway-api", "gateway_api"),
        ("github.com/envoyproxy/gateway", "envoy_gateway"),
        ("github.com/cert-manager/cert-manager", "cert_manager"),
    ):
        assert f"{module}@{pins[pin]} " in sources


@pytest.mark.parametrize("config", list(CONFIGS))
def test_rendered_routes_and_traffic_policies_are_admitted(
    cluster: Cluster, namespace: str, config: str
) -> None:
    routes = rendered(config, "HTTPRoute")
    policies = rendered(config, "BackendTrafficPolicy")
    assert routes and len(policies) == len(routes) // 2  # per app: a route, a redirect route, a policy
    for manifest in [*routes, *policies]:
        admitted(cluster, into(namespace, manifest))
    specs = [p["spec"] for p in policies]
    if config != "round-robin-nothing-else":  # the resilience keys really reached the server
        assert all({"healthCheck", "retry", "timeout"} <= set(spec) for spec in specs), specs


def test_the_gateway_the_routes_attach_to_is_admitted_with_those_listeners(
    cluster: Cluster, namespace: str
) -> None:
    """hastack refers to an existing Gateway: one as README describes it (HTTPS listener `sectionName`
    with the certificate, HTTP listener `redirectSectionName`) is admitted, and has every listener our
    routes name."""
    gateway = stack_file_config("prod")["gateway"]
    class_name = f"e2e-crd-{uuid.uuid4().hex[:8]}"
    gateway_class = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "GatewayClass",
        "metadata": {"name": class_name},
        "spec": {"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"},
    }
    listeners = [
        {
            "name": gateway["sectionName"],
            "protocol": "HTTPS",
            "port": 443,
            "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "public-tls"}]},
            "allowedRoutes": {"namespaces": {"from": "All"}},
        },
        {
            "name": gateway["redirectSectionName"],
            "protocol": "HTTP",
            "port": 80,
            "allowedRoutes": {"namespaces": {"from": "All"}},
        },
    ]
    manifest = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": gateway["name"], "namespace": namespace},
        "spec": {"gatewayClassName": class_name, "listeners": listeners},
    }
    try:
        admitted(cluster, gateway_class)
        admitted(cluster, manifest)
    finally:
        cluster.kubectl("delete", "gatewayclass", class_name, "--wait=false", check=False)
    named = {
        ref["sectionName"]
        for route in rendered("prod-stack", "HTTPRoute")
        for ref in route["spec"]["parentRefs"]
    }
    assert named == {listener["name"] for listener in listeners}


def test_the_certificate_cert_manager_makes_for_our_ingress_is_admitted(
    cluster: Cluster, namespace: str
) -> None:
    """hastack asks cert-manager for certificates with an Ingress annotation; the Certificate its
    ingress-shim derives from that Ingress (name and secret from `tls[].secretName`, DNS names from
    `tls[].hosts`, the annotated ClusterIssuer) is admitted by cert-manager's own CRD."""
    ingresses = [
        i
        for i in rendered("prod-stack", "Ingress")
        if "cert-manager.io/cluster-issuer" in i["metadata"].get("annotations", {})
    ]
    assert ingresses
    for ingress in ingresses:
        issuer = ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
        for tls in ingress["spec"]["tls"]:
            certificate = {
                "apiVersion": "cert-manager.io/v1",
                "kind": "Certificate",
                "metadata": {"name": tls["secretName"], "namespace": namespace},
                "spec": {
                    "secretName": tls["secretName"],
                    "dnsNames": tls["hosts"],
                    "issuerRef": {"name": issuer, "kind": "ClusterIssuer", "group": "cert-manager.io"},
                },
            }
            admitted(cluster, certificate)


def wrong(mutate: Any) -> dict[str, Any]:
    """The prod stack's BackendTrafficPolicy, changed by `mutate(spec)`."""
    (policy,) = rendered("prod-stack", "BackendTrafficPolicy")
    changed = copy.deepcopy(policy)
    mutate(changed["spec"])
    return changed


WRONG_POLICIES = {
    # our config's key instead of Envoy's field: a permissive schema would keep it silently
    "unknown field": (
        lambda s: s["healthCheck"]["passive"].update(consecutiveErrors=5),
        "consecutiveErrors: field not declared in schema",
    ),
    "wrong type": (lambda s: s["retry"].update(numRetries="two"), "numRetries: expected numeric"),
    "duration without a unit": (
        lambda s: s["timeout"]["http"].update(requestTimeout="30"),
        "requestTimeout in body should match",
    ),
    "CEL rule: consistent hash without its settings": (
        lambda s: s.update(loadBalancer={"type": "ConsistentHash"}),
        "consistentHash field needs to be set",
    ),
}


@pytest.mark.parametrize("case", list(WRONG_POLICIES))
def test_the_api_server_refuses_a_wrong_backend_traffic_policy(
    cluster: Cluster, namespace: str, case: str
) -> None:
    """Guards the tests above: the installed schema really validates (fields, types, patterns, CEL)."""
    mutate, message = WRONG_POLICIES[case]
    policy = into(namespace, wrong(mutate))
    refused = server_side_apply(cluster, policy, dry_run=True)
    assert refused.returncode != 0 and message in refused.stderr, refused.stderr
    assert server_side_apply(cluster, into(namespace, wrong(lambda _s: None)), dry_run=True).returncode == 0
