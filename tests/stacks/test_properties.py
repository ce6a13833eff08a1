"""Property tests: any valid config renders a stack that keeps the HA invariants and validates."""

from __future__ import annotations

import copy
from typing import Any

import kubernetes_validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hastack.config import ENVIRONMENTS
from hastack_tools.dev.render import render_groups
from tests.conftest import program_run_of, run_config
from tests.stacks.invariants import violations

NAMES = ["web", "api", "cart", "search", "auth"]


@st.composite
def app_configs(draw: st.DrawFn, environment: str, name: str, index: int) -> dict[str, Any]:
    rules = ENVIRONMENTS[environment]
    floor = rules.min_replicas
    image = f"ghcr.io/acme/{name}" + ("@sha256:" + "b" * 64 if rules.require_digest else f":{index}.0.1")
    app: dict[str, Any] = {"name": name, "image": image, "port": draw(st.integers(1024, 65535))}
    if draw(st.booleans()):
        low = draw(st.integers(floor, 8))
        app["autoscaling"] = {
            "minReplicas": low,
            "maxReplicas": draw(st.integers(low + 1, 30)),
            "targetCPUUtilization": draw(st.integers(10, 100)),
        }
    else:
        app["replicas"] = draw(st.integers(floor, 8))
    pods = app.get("replicas") or app["autoscaling"]["minReplicas"]
    keep = rules.min_available_during_disruption
    budget = draw(
        st.sampled_from(
            [
                {"maxUnavailable": 1},
                {"minAvailable": pods - 1},
                {"maxUnavailable": f"{draw(st.integers(1, 100 * (pods - keep) // pods))}%"},
            ]
        )
    )
    app["disruptionBudget"] = budget
    if draw(st.booleans()):
        app["ingress"] = {
            "hosts": [f"{name}{i}.example.com" for i in range(draw(st.integers(1, 3)))],
            "paths": draw(st.sampled_from([["/"], ["/", "/v1"]])),
            "loadBalancing": draw(st.sampled_from(["round-robin", "ewma", "consistent-hash"])),
        }
    if draw(st.booleans()):
        app["generatedSecrets"] = ["TOKEN"]
    return app


@st.composite
def stack_configs(draw: st.DrawFn) -> dict[str, Any]:
    environment = draw(st.sampled_from(["dev", "staging", "prod"]))
    count = draw(st.integers(1, 3))
    apps = [draw(app_configs(environment, NAMES[i], i)) for i in range(count)]
    if count > 1 and draw(st.booleans()):
        apps[1]["allowFrom"] = [apps[0]["name"]]
    self_signed = "self-signed" in ENVIRONMENTS[environment].tls_modes
    tls = {"mode": "self-signed"} if self_signed else {"mode": "cert-manager", "issuer": "le"}
    return {
        "environment": environment,
        "namespace": "prop",
        "ingress": {"className": "nginx", "tls": tls},
        "apps": apps,
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stack_configs())
def test_any_valid_config_keeps_the_invariants(raw: dict[str, Any]) -> None:
    run = run_config(raw, raw["environment"])
    manifests = [m for items in render_groups(run).values() for m in items]
    assert violations(manifests) == []
    for item in manifests:
        kubernetes_validate.validate(item, "1.31.0", strict=True)
    deployments = [m for m in manifests if m["kind"] == "Deployment"]
    assert len(deployments) == len(raw["apps"])
    for deployment in deployments:
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_invariant_checker_catches_broken_stacks() -> None:
    """The checker the properties rely on must fail on each kind of breakage."""
    good = [m for items in render_groups(program_run_of("prod")).values() for m in items]
    assert violations(good) == []

    dev = [m for items in render_groups(program_run_of("dev")).values() for m in items]
    assert violations(dev) == []

    def broken(kind: str, change: Any) -> list[str]:
        """Breaks the first `kind` object of prod, or of dev for kinds prod has none of (Ingress)."""
        manifests = copy.deepcopy(good if any(m["kind"] == kind for m in good) else dev)
        change(next(m for m in manifests if m["kind"] == kind))
        return violations(manifests)

    assert any(
        "selects 0 Deployments" in v for v in broken("Service", lambda s: s["spec"]["selector"].update(x="y"))
    )
    assert any(
        "resolves to nothing" in v
        for v in broken("Service", lambda s: s["spec"]["ports"][0].update(targetPort="web"))
    )
    assert any("has no TLS entry" in v for v in broken("Ingress", lambda i: i["spec"].update(tls=[])))
    assert any(
        "allows no eviction" in v
        for v in broken("PodDisruptionBudget", lambda p: p["spec"].update(maxUnavailable=0))
    )
    assert any(
        "is not a Service" in v
        for v in broken(
            "Ingress",
            lambda i: i["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"].update(name="nope"),
        )
    )
    weighted = [
        m for m in good if m["kind"] == "HTTPRoute" and len(m["spec"]["rules"][0].get("backendRefs", [])) > 1
    ]
    assert weighted, "prod splits web between stable and canary"

    def split(change: Any) -> list[str]:
        manifests = copy.deepcopy(good)
        route = next(m for m in manifests if m["metadata"]["name"] == weighted[0]["metadata"]["name"])
        change(route["spec"]["rules"][0])
        return violations(manifests)

    assert any("weights do not add up" in v for v in split(lambda r: r["backendRefs"][1].update(weight=50)))
    assert any("is not a Service port" in v for v in split(lambda r: r["backendRefs"][1].update(port=8080)))
    assert any("neither serves nor redirects" in v for v in split(lambda r: r.pop("backendRefs")))
