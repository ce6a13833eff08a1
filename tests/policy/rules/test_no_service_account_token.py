"""`no-service-account-token`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/no_service_account_token.py)."""

from __future__ import annotations

from typing import Any

from tests.policy.k8s_fixtures import (
    DELETE,
    POD,
    edit,
    good_stack,
    make,
    set_at,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes

RULE_ID = "no-service-account-token"


def bound_account(props: dict[str, Any]) -> None:
    """web mounts the token of ServiceAccount operator (a RoleBinding grants it a Role)."""
    pod = props["spec"]["template"]["spec"]
    pod.pop("automountServiceAccountToken")
    pod["serviceAccountName"] = "operator"


OPERATOR_BINDING = make(
    "RoleBinding",
    "operator",
    {
        "metadata": {"namespace": "shop"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "operator"},
        "subjects": [{"kind": "ServiceAccount", "name": "operator"}],
    },
)


PASSING: list[Case] = [
    passes(
        lambda: [*edit(good_stack(), "Deployment", bound_account), OPERATOR_BINDING],
        label="a pod that calls the API keeps its token",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(good_stack, "Deployment", "web", set_at(f"{POD}.automountServiceAccountToken", DELETE)),
        "automountServiceAccountToken is unset",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
