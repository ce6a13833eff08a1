"""The keys of stack references (`egress[]` with `stack`, `allowFromStacks`): each mistake is one
line naming its key path, what is allowed and the value found."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from hastack.config import ConfigError, validate
from tests.conftest import minimal_config

CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "a stack without the app it calls",
        {"egress": [{"stack": "shop-api"}]},
        "hastack:apps[0].egress[0].app: name the app of stack 'shop-api' this one calls (an app it exports), "
        "got nothing",
    ),
    (
        "ports on another stack's app (its own port comes from its stack)",
        {"egress": [{"stack": "shop-api", "app": "api", "ports": [{"port": 80}]}]},
        "hastack:apps[0].egress[0].ports: an app is reached on its own port; remove ports",
    ),
    (
        "a stack and a second destination",
        {"egress": [{"stack": "shop-api", "app": "api", "cidr": "10.0.0.0/8", "ports": [{"port": 80}]}]},
        "hastack:apps[0].egress[0]: set exactly one destination: cidr, namespaceLabels/podLabels, or app",
    ),
    (
        "a stack name that cannot be a label value",
        {"egress": [{"stack": "shop/api", "app": "api"}]},
        "hastack:apps[0].egress[0].stack: must be a stack name that is also a Kubernetes label value (the "
        "namespace carries it): 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter "
        "or digit, got 'shop/api'",
    ),
    (
        "the URL variable also set in env",
        {"egress": [{"stack": "shop-api", "app": "api"}], "env": {"API_URL": "http://elsewhere"}},
        "hastack:apps[0].egress[0].app: sets API_URL (the URL of shop-api's api), which env sets too; one "
        "source per variable, got 'api'",
    ),
    (
        "two stacks' apps of one name",
        {"egress": [{"stack": "shop-api", "app": "api"}, {"stack": "pay", "app": "api"}]},
        "hastack:apps[0].egress[1]: sets API_URL as egress[0] does; call one app of this name",
    ),
    (
        "allowFromStacks without the app",
        {"allowFromStacks": [{"stack": "shop-web"}]},
        "hastack:apps[0].allowFromStacks[0].app: required key is missing",
    ),
]


@pytest.mark.parametrize(("mistake", "app", "line"), CASES, ids=[c[0] for c in CASES])
def test_each_mistake_names_its_key_path(mistake: str, app: dict[str, Any], line: str) -> None:
    with pytest.raises(ConfigError) as error:
        validate(copy.deepcopy(minimal_config(**app)), "Pulumi.test.yaml")
    assert any(line in problem for problem in error.value.problems), (mistake, error.value.problems)


def test_the_valid_forms_pass() -> None:
    # counterfactual of the cases: each is one edit away from these
    stack = validate(
        minimal_config(
            egress=[{"stack": "shop-api", "app": "api"}, {"stack": "pay", "app": "pay-api"}],
            allowFromStacks=[{"stack": "shop-web", "app": "web"}],
        ),
        "Pulumi.test.yaml",
    )
    assert [e.url_variable() for e in stack.apps[0].egress] == ["API_URL", "PAY_API_URL"]
    assert stack.apps[0].allow_from_stacks[0].stack == "shop-web"
