"""Config validation and the policy pack agree: every stack config the config accepts passes the
pack's mandatory rules for its environment (policy/config/<env>.json, generated from the same
environment profiles), over hypothesis-generated configs of dev, staging and prod.

The generator strays over the environment floors on purpose (UIDs, replica floors, budgets, images,
TLS modes, quantities with wrong units, system priority classes), so the boundary between accepted
and refused is exercised from both sides; refused configs are simply not judged.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hastack.config import ENVIRONMENTS, ConfigError, parse_quantity, validate
from hastack_policy import evaluate
from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.dev.pack_client import objects_from_views, views_from_records
from tests.conftest import run_config

NAMES = ("web", "api", "cart")
DIGEST = "@sha256:" + "c" * 64
MAX_EXAMPLES = 200
"""About a third are refused by the config (cheap); an accepted one renders under mocks and is judged
in-process (~0.15 s): the test takes ~10 s."""


def pack_config(environment: str) -> dict[str, Any]:
    """The committed per-environment pack config (tests/tools/dev/test_policy_docs.py proves it is the
    generated one)."""
    config: dict[str, Any] = json.loads((REPO_ROOT / "policy" / "config" / f"{environment}.json").read_text())
    return config


STRAYS = ("uid", "replicas", "image", "quantity", "budget")
"""The aspects a generated stack may push past the rules: half the stacks stray on exactly one (its
first app, just past the limit), so a config check that let it through fails the property within a
few dozen examples (each was checked by removing the config check: the property then fails). These
are the config rules the pack's mandatory rules mirror; the others (probe paths, grace periods, TLS
modes, balancing per controller, system priority classes) have no mandatory pack counterpart to
disagree with, so they stay valid here."""


def pick(stray: bool, valid: st.SearchStrategy[Any], off: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`off` (values just past the limit) for the aspect this stack strays on, else `valid`."""
    return off if stray else valid


GOOD_QUANTITIES = {
    "cpu": ["50m", "100m", "250m", "0.5", "1", "2"],
    "memory": ["64Mi", "128Mi", "256Mi", "500M", "1Gi", "1048576"],
    "ephemeral-storage": ["64Mi", "128Mi", "1Gi", "2G"],
}
BAD_QUANTITIES = {
    "cpu": ["1Gi", "0.0005", "1k"],
    "memory": ["512m", "0.5"],
    "ephemeral-storage": ["64m", "1.5"],
}
BALANCING = {
    "ingress": ["round-robin", "ewma", "consistent-hash"],  # ingress-nginx (className nginx)
    "gateway": ["round-robin", "least-connections", "consistent-hash"],  # envoy-gateway
}
QUANTITY_KEYS = (("cpu", "cpu"), ("memory", "memory"), ("ephemeralStorage", "ephemeral-storage"))


@st.composite
def resources(draw: st.DrawFn, stray: bool) -> dict[str, Any]:
    """Requests at or below limits (the config's own rule), or both left to the profile's defaults;
    a straying one has a quantity in units that make no sense for its resource."""
    out: dict[str, Any] = {"requests": {}, "limits": {}}
    for key, resource in QUANTITY_KEYS:
        values = sorted(GOOD_QUANTITIES[resource], key=lambda q: parse_quantity(q, resource))
        request_at = draw(st.integers(0, len(values) - 1))
        limit_at = draw(st.integers(request_at, len(values) - 1))
        if draw(st.booleans()):
            out["requests"][key] = values[request_at]
            out["limits"][key] = values[limit_at]
    if stray:  # the same typo in request and limit, so only the unit is wrong
        key, resource = draw(st.sampled_from(QUANTITY_KEYS))
        out["requests"][key] = out["limits"][key] = draw(st.sampled_from(BAD_QUANTITIES[resource]))
    return out


@st.composite
def images(draw: st.DrawFn, name: str, environment: str, stray: bool) -> str:
    base = f"ghcr.io/acme/{name}"
    pinned = [base + DIGEST, base + ":2.0.0" + DIGEST]
    valid = pinned if ENVIRONMENTS[environment].require_digest else [*pinned, base + ":1.4.2"]
    # where digests are required, a tag is the stray that matters; elsewhere the unpinned forms
    off = [base + ":1.4.2"] if ENVIRONMENTS[environment].require_digest else [base, base + ":latest"]
    return str(draw(pick(stray, st.sampled_from(valid), st.sampled_from(off))))


@st.composite
def apps(draw: st.DrawFn, environment: str, name: str, stray: str | None) -> dict[str, Any]:
    rules = ENVIRONMENTS[environment]
    floor = rules.min_replicas
    app: dict[str, Any] = {
        "name": name,
        "image": draw(images(name, environment, stray == "image")),
        "port": draw(st.integers(1024, 65535)),
    }
    low = draw(pick(stray == "replicas", st.integers(floor, floor + 3), st.integers(1, floor - 1)))
    if draw(st.booleans()):
        app["autoscaling"] = {
            "minReplicas": low,
            "maxReplicas": draw(st.integers(low + 1, low + 10)),
            draw(st.sampled_from(["targetCPUUtilization", "targetMemoryUtilization"])): draw(
                st.integers(10, 95)
            ),
        }
    else:
        app["replicas"] = low
    # valid budgets allow an eviction at the floor and keep the profile's minimum; straying ones let
    # one pod too many go (the pack's pdb-allows-eviction minAvailable)
    keep = rules.min_available_during_disruption
    valid_budget = st.one_of(
        st.sampled_from([{"maxUnavailable": 1}, {"minAvailable": max(low - 1, keep)}]),
        st.integers(1, max(1, 100 * (low - keep) // low)).map(lambda p: {"maxUnavailable": f"{p}%"}),
    )
    too_few = [{"maxUnavailable": low - keep + 1}, {"minAvailable": keep - 1}, {"maxUnavailable": "100%"}]
    app["disruptionBudget"] = draw(pick(stray == "budget", valid_budget, st.sampled_from(too_few)))
    app["resources"] = draw(resources(stray == "quantity"))
    app["runAsUser"] = draw(
        pick(
            stray == "uid",
            st.sampled_from([rules.min_run_as_user, 10001, 65534, 2_000_000]),
            st.sampled_from([1000, 5000, rules.min_run_as_user - 1]),
        )
    )
    if draw(st.booleans()):
        app["priorityClassName"] = "serving-high"
    if draw(st.booleans()):
        app["probes"] = {
            "readiness": {"path": "/ready"},
            "liveness": {"path": "/alive"},
            "startup": {"path": "/ready", "failureThreshold": draw(st.integers(1, 60))},
        }
    pre_stop = draw(st.integers(0, 30))
    app["shutdown"] = {
        "preStopSeconds": pre_stop,
        "terminationGracePeriodSeconds": draw(st.integers(pre_stop + 5, 120)),
    }
    if draw(st.booleans()):
        exposure = draw(st.sampled_from(["ingress", "gateway"]))
        app["ingress"] = {
            "hosts": [f"{name}.example.com"],
            "paths": draw(st.sampled_from([["/"], ["/", "/v1"]])),
            "loadBalancing": draw(st.sampled_from(BALANCING[exposure])),
        }
        app["exposure"] = exposure
        if draw(st.integers(0, 3)) == 0:
            app["canary"] = {
                "image": draw(images(name, environment, False)),
                "weight": draw(st.integers(0, 100)),
            }
    if draw(st.booleans()):
        app["generatedSecrets"] = ["TOKEN"]
    return app


@st.composite
def stacks(draw: st.DrawFn) -> dict[str, Any]:
    environment = draw(st.sampled_from(list(ENVIRONMENTS)))
    stray = draw(st.one_of(st.none(), st.sampled_from(STRAYS)))
    count = draw(st.integers(1, len(NAMES)))
    app_list = [draw(apps(environment, NAMES[i], stray if i == 0 else None)) for i in range(count)]
    if count > 1 and draw(st.booleans()):
        app_list[1]["allowFrom"] = [app_list[0]["name"]]
    modes = [
        {"mode": "self-signed"},
        {"mode": "cert-manager", "issuer": "letsencrypt"},
        {"mode": "secret", "secretName": "shop-tls"},
    ]
    allowed = [m for m in modes if m["mode"] in ENVIRONMENTS[environment].tls_modes]
    tls = draw(st.sampled_from(allowed))
    return {
        "environment": environment,
        "namespace": "agree",
        "ingress": {"className": "nginx", "tls": tls, "awaitLoadBalancer": False},
        "gateway": {"name": "public", "namespace": "gateway-system"},
        "apps": app_list,
    }


@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacks())
def test_every_accepted_config_passes_the_mandatory_rules_of_its_environment(raw: dict[str, Any]) -> None:
    environment = raw["environment"]
    try:
        validate(json.loads(json.dumps(raw)), f"Pulumi.{environment}.yaml")
    except ConfigError as error:
        event(f"{environment}: refused by config")
        event(error.problems[0].split(", got")[0][:90])
        return
    event(f"{environment}: accepted, judged by the pack")
    run = run_config(raw, environment)
    objects = objects_from_views(views_from_records(run.resources))
    assert any(o.kind == "Deployment" for o in objects)
    mandatory = [v for v in evaluate(objects, pack_config(environment)) if v.level == "mandatory"]
    assert mandatory == [], "\n".join(f"{v.rule}: {v.message}" for v in mandatory)


def test_the_judge_refuses_what_the_config_refuses() -> None:
    """Guards the property: the staging stack, changed past the config's checks (a tag, UID 5000,
    milli-bytes of memory) after rendering, fails the pack's mandatory rules, so a config that let
    those through would fail the property above. The config refuses each of them on its own."""
    from tests.conftest import minimal_config, stack_file_config

    for change in (
        {"image": "ghcr.io/acme/web:1.0.0"},
        {"runAsUser": 5000},
        {"resources": {"limits": {"memory": "512m"}}},
    ):
        try:
            validate(minimal_config("staging", **change), "Pulumi.staging.yaml")
        except ConfigError:
            continue
        raise AssertionError(f"config accepted {change} in staging")
    run = run_config(stack_file_config("staging"), "staging")
    objects = objects_from_views(views_from_records(run.resources))
    assert [v for v in evaluate(objects, pack_config("staging")) if v.level == "mandatory"] == []
    for obj in objects:
        if obj.kind == "Deployment":
            pod = obj.props["spec"]["template"]["spec"]
            pod["securityContext"]["runAsUser"] = 5000.0
            pod["containers"][0]["image"] = "ghcr.io/acme/web:1.0.0"
            pod["containers"][0]["resources"]["limits"]["memory"] = "512m"
    rules = {v.rule for v in evaluate(objects, pack_config("staging")) if v.level == "mandatory"}
    assert rules == {"image-pinned", "pss-restricted", "resource-units"}


def test_the_generator_reaches_accepted_stacks_of_every_environment() -> None:
    """The property is not vacuous: each environment yields stacks the config accepts."""
    from hypothesis import find

    def accepted_in(environment: str) -> Any:
        def accepted(raw: dict[str, Any]) -> bool:
            if raw["environment"] != environment:
                return False
            try:
                validate(json.loads(json.dumps(raw)), "Pulumi.find.yaml")
            except ConfigError:
                return False
            return True

        return accepted

    for environment in ENVIRONMENTS:
        assert find(stacks(), accepted_in(environment), settings=settings(max_examples=500))["apps"]
