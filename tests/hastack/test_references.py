"""Stack references between stacks of one project: the caller's egress to, and variable for, an app
another stack exports (read through a faked reference), the callee's admission of it by its
namespace's labels, and the errors that name the caller's key path."""

from __future__ import annotations

import runpy
from typing import Any

import pytest

from hastack.config import ConfigError
from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.dev.mockrun import MockRun, run_function
from tests.conftest import engine_strings, minimal_config, objects

CALLEE = "organization/hastack/shop-api"
"""The fully qualified name the program asks the (file) backend for: organization/<project>/<stack>."""
CALLEE_OUTPUTS: dict[str, Any] = {
    "namespace": "shop-api-ns",
    "apps": {
        "api": {
            "serviceDnsName": "api.shop-api-ns.svc.cluster.local",
            "servicePort": 80,
            "port": 9090,
            "urls": [],
            "resourceNames": {},
        }
    },
}


def run(raw: dict[str, Any], stack: str = "shop-web", outputs: dict[str, Any] | None = None) -> MockRun:
    """The real program under mocks, its stack references answered from `outputs` (by full name)."""

    def program() -> None:
        runpy.run_path(str(REPO_ROOT / "__main__.py"), run_name="__main__")

    given = {CALLEE: CALLEE_OUTPUTS} if outputs is None else outputs
    return run_function(
        program, project="hastack", stack=stack, config=engine_strings(raw), stack_outputs=given
    )


def caller(**app: Any) -> dict[str, Any]:
    return minimal_config(egress=[{"stack": "shop-api", "app": "api"}], **app)


def policy_of(result: MockRun, app: str) -> dict[str, Any]:
    (found,) = [
        p
        for p in objects(result, "NetworkPolicy")
        if p["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name") == app
    ]
    return found


def test_caller_reaches_the_callee_namespace_pods_and_port_the_reference_exports() -> None:
    result = run(caller())
    egress = policy_of(result, "web")["spec"]["egress"]
    # only the callee's pods, in the namespace its stack exports, on its pod port (not the Service's 80)
    assert {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop-api-ns"}},
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}},
            }
        ],
        "ports": [{"protocol": "TCP", "port": 9090}],
    } in egress
    (config_map,) = objects(result, "ConfigMap")
    assert config_map["data"]["API_URL"] == "http://api.shop-api-ns.svc.cluster.local:80"
    # the fake answers CALLEE only: the program asked for the fully qualified name (else: the
    # could-not-be-read error of the last test)


def test_a_changed_callee_changes_what_the_caller_renders() -> None:
    # counterfactual of the test above: the values come from the reference, not from the config
    moved = {**CALLEE_OUTPUTS, "namespace": "elsewhere"}
    moved["apps"] = {
        "api": {**CALLEE_OUTPUTS["apps"]["api"], "serviceDnsName": "api.elsewhere.svc", "port": 7000}
    }
    result = run(caller(), outputs={CALLEE: moved})
    rule = policy_of(result, "web")["spec"]["egress"][-1]
    assert rule["to"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "elsewhere"}
    assert rule["ports"] == [{"protocol": "TCP", "port": 7000}]
    (config_map,) = objects(result, "ConfigMap")
    assert config_map["data"]["API_URL"] == "http://api.elsewhere.svc:80"


def test_callee_admits_the_other_stacks_app_by_its_namespace_labels() -> None:
    raw = minimal_config(name="api", allowFromStacks=[{"stack": "shop-web", "app": "web"}])
    result = run(raw, stack="shop-api")
    ingress = policy_of(result, "api")["spec"]["ingress"][0]
    assert {
        "namespaceSelector": {
            "matchLabels": {"hastack.dev/project": "hastack", "hastack.dev/stack": "shop-web"}
        },
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
    } in ingress["from"]
    # and the caller's namespace carries those labels (its stack's name), so the selector matches it
    caller_namespace = objects(run(caller()), "Namespace")[0]["metadata"]["labels"]
    assert caller_namespace["hastack.dev/project"] == "hastack"
    assert caller_namespace["hastack.dev/stack"] == "shop-web"


def test_an_app_the_referenced_stack_does_not_export_names_the_key_path_and_what_it_exports() -> None:
    raw = minimal_config(
        egress=[{"cidr": "10.0.0.0/8", "ports": [{"port": 5432}]}, {"stack": "shop-api", "app": "pay"}]
    )
    with pytest.raises(ConfigError) as error:
        run(raw)
    assert (
        "Pulumi.shop-web.yaml: hastack:apps[0].egress[1].app: stack 'shop-api' exports no app 'pay' "
        "(apps it exports: api); name one of them, or deploy 'shop-api' with it first, got 'pay'"
    ) in str(error.value)


def test_a_stack_that_cannot_be_read_names_the_key_path() -> None:
    with pytest.raises(ConfigError) as error:
        run(caller(), outputs={"organization/hastack/other": CALLEE_OUTPUTS})  # shop-api is not there
    assert (
        "Pulumi.shop-web.yaml: hastack:apps[0].egress[0].stack: stack 'shop-api' could not be read ("
        in str(error.value)
    )
    assert "got 'shop-api'" in str(error.value)
