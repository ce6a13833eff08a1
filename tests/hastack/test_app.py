"""HighlyAvailableApp as a component: type token, parentage, outputs, validation at construction."""

from __future__ import annotations

import pulumi
import pytest

from hastack import HighlyAvailableApp
from hastack.config import ConfigError, StackConfig
from hastack_tools.dev.mockrun import run_function
from tests.conftest import minimal_config, parsed, run_config

EXPECTED_KINDS = {
    "ServiceAccount",
    "ConfigMap",
    "Secret",
    "Deployment",
    "Service",
    "Ingress",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "NetworkPolicy",
}


def test_every_child_is_parented_to_its_component() -> None:
    raw = minimal_config(
        replicas=None,
        autoscaling={"minReplicas": 2, "maxReplicas": 4, "targetCPUUtilization": 70},
        generatedSecrets=["S"],
    )
    run = run_config(raw)
    (component,) = [r for r in run.resources if r.type == "hastack:index:HighlyAvailableApp"]
    children = [r for r in run.resources if r.parent == component.urn]
    kinds = {r.inputs.get("kind") for r in children if r.type.startswith("kubernetes:")}
    assert kinds == EXPECTED_KINDS
    by_urn = {r.urn: r for r in run.resources}
    for resource in run.resources:
        if resource.type.startswith("kubernetes:") and resource.inputs.get("kind") != "Namespace":
            assert resource.parent in by_urn, resource.urn
    assert not [r for r in run.resources if r.custom and r.parent == "" and r.type != "pulumi:pulumi:Stack"]


def test_outputs_give_service_discovery_and_urls() -> None:
    run = run_config(minimal_config())
    web = run.outputs["apps"]["web"]
    assert web["serviceDnsName"] == "web.shop.svc.cluster.local"
    assert web["servicePort"] == 80
    assert web["urls"] == ["https://shop.example.com/"]
    assert set(web["resourceNames"]) >= {
        "deployment",
        "service",
        "podDisruptionBudget",
        "networkPolicy",
        "ingress",
    }
    assert run.outputs["namespace"] == "shop"


def test_component_revalidates_a_model_built_in_code() -> None:
    """A StackConfig built in Python skips `validate()`; `from_config` still enforces the floors."""
    good = parsed(minimal_config("prod"))
    weak_app = good.apps[0].model_copy(update={"replicas": 1})
    weak = good.model_copy(update={"apps": [weak_app]})

    def program() -> None:
        HighlyAvailableApp.from_config(weak_app, weak, "shop")

    with pytest.raises(
        ConfigError, match=r"HighlyAvailableApp\(web\): hastack:apps\[0\]\.replicas: prod needs"
    ):
        run_function(program, stack="prod")


def test_component_is_usable_from_another_program() -> None:
    stack = StackConfig.model_validate(minimal_config())

    def program() -> None:
        app = HighlyAvailableApp.from_config(stack.apps[0], stack, "team-ns")
        pulumi.export("dns", app.service_dns_name)

    run = run_function(program)
    assert run.outputs["dns"] == "web.team-ns.svc.cluster.local"
    (component,) = [r for r in run.resources if r.type == "hastack:index:HighlyAvailableApp"]
    assert component.name == "web"
