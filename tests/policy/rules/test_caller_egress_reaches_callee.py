"""`caller-egress-reaches-callee`: a caller admitted by pod selector must be let out by its own egress.

The good stack (k8s_fixtures) admits every source, so no caller is named; each case here names `web`
as `api`'s caller in api's policy, under the namespace's default deny (policyTypes Ingress, Egress).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hastack.wire import UNKNOWN
from tests.policy.k8s_fixtures import DEV, PROD, all_violations, edit, good_stack, make, violations
from tests.policy.rules.cases import Case, fails, fixture_test, passes

RULE = "caller-egress-reaches-callee"
WEB = {"app.kubernetes.io/name": "web"}
API = {"app.kubernetes.io/name": "api"}
Change = Callable[[dict[str, Any]], Any]
Objs = list[Any]


def admit(peer: dict[str, Any], ports: list[dict[str, Any]] | None = None) -> Change:
    """api's policy admits `peer` (on port http unless told)."""

    def change(props: dict[str, Any]) -> None:
        props["spec"]["ingress"] = [{"from": [peer], "ports": [{"port": "http"}] if ports is None else ports}]

    return change


def web_egress(*rules: dict[str, Any], types: tuple[str, ...] = ("Ingress", "Egress")) -> Change:
    def change(props: dict[str, Any]) -> None:
        props["spec"]["policyTypes"] = list(types)
        props["spec"]["egress"] = list(rules)

    return change


def stack(admission: Change, egress: Change | None = None, objs: Objs | None = None) -> Objs:
    edited = edit(objs or good_stack(), "NetworkPolicy", admission, "api-allow")
    return edit(edited, "NetworkPolicy", egress, "web-allow") if egress else edited


TO_API = {"to": [{"podSelector": {"matchLabels": API}}], "ports": [{"port": 8080}]}

ADMIT_WEB = admit({"podSelector": {"matchLabels": WEB}})

PASSING: list[Case] = [
    passes(lambda: stack(ADMIT_WEB, web_egress(TO_API)), label="web is let out to api on the admitted port"),
]

FAILING: list[Case] = [
    fails(
        lambda: stack(ADMIT_WEB),
        "Deployment shop/web-1a2b3c4d is admitted to Deployment shop/api-1a2b3c4d on port http/TCP by "
        "NetworkPolicy shop/api-allow spec.ingress[0]",
        "NetworkPolicies restricting its egress (shop/default-deny)",
        "add an egress rule to them on that port",
        label="admitted by api, but the default deny keeps web in",
    ),
]

test_fixtures = fixture_test(RULE, PASSING, FAILING)


def test_each_fixture_breaks_this_rule_only_and_passes_every_environment() -> None:
    assert set(all_violations(stack(ADMIT_WEB), PROD)) == {RULE}
    fixed = stack(ADMIT_WEB, web_egress(TO_API))
    assert all_violations(fixed, PROD) == {}
    assert all_violations(fixed, DEV) == {}


def test_mandatory_in_every_environment() -> None:
    for config in (DEV, PROD):
        assert config[RULE]["enforcementLevel"] == "mandatory"


@pytest.mark.parametrize(
    ("egress", "reported"),
    [
        (web_egress(TO_API), False),
        (web_egress({"to": [{"podSelector": {"matchLabels": API}}], "ports": [{"port": "http"}]}), False),
        (web_egress({"to": [{"podSelector": {"matchLabels": API}}]}), False),  # every port
        (web_egress({"ports": [{"port": 8080}]}), False),  # every destination on 8080
        (
            web_egress(
                {"to": [{"podSelector": {"matchLabels": API}}], "ports": [{"port": 8000, "endPort": 8100}]}
            ),
            False,
        ),
        (
            web_egress({"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 8080}]}),
            False,
        ),  # pod IPs unknown
        (web_egress(types=("Ingress",)), True),  # web-allow leaves egress alone; the default deny denies it
        (web_egress({"to": [{"podSelector": {"matchLabels": API}}], "ports": [{"port": 9090}]}), True),
        (
            web_egress(
                {"to": [{"podSelector": {"matchLabels": API}}], "ports": [{"port": 8080, "protocol": "UDP"}]}
            ),
            True,
        ),
        (web_egress({"to": [{"podSelector": {"matchLabels": API}}], "ports": [{"port": "metrics"}]}), True),
        (web_egress({"to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "apx"}}}]}), True),
        (
            web_egress(
                {
                    "to": [
                        {
                            "podSelector": {
                                "matchExpressions": [
                                    {"key": "app.kubernetes.io/name", "operator": "In", "values": ["api"]}
                                ]
                            }
                        }
                    ],
                    "ports": [{"port": 8080}],
                }
            ),
            False,
        ),
        (
            web_egress(
                {
                    "to": [
                        {
                            "podSelector": {
                                "matchExpressions": [
                                    {"key": "app.kubernetes.io/name", "operator": "NotIn", "values": ["api"]}
                                ]
                            }
                        }
                    ],
                }
            ),
            True,
        ),
        (
            web_egress(
                {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}}]}
            ),
            False,
        ),
        (
            web_egress(
                {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "payments"}}}]}
            ),
            True,
        ),
    ],
)
def test_egress_is_matched_with_exact_selector_and_port_semantics(egress: Change, reported: bool) -> None:
    """The default deny restricts web's egress in every case; web-allow's rules decide."""
    found = violations(RULE, stack(admit({"podSelector": {"matchLabels": WEB}}), egress))
    assert bool(found) is reported, found


def test_default_deny_only_for_ingress_leaves_egress_open() -> None:
    def ingress_only(props: dict[str, Any]) -> None:
        props["spec"]["policyTypes"] = ["Ingress"]

    objs = edit(
        stack(admit({"podSelector": {"matchLabels": WEB}})), "NetworkPolicy", ingress_only, "default-deny"
    )
    assert violations(RULE, objs) == []


def test_policy_types_default_as_the_api_server_does() -> None:
    """No policyTypes: Egress counts only when the policy has egress rules."""

    def untyped(props: dict[str, Any]) -> None:
        del props["spec"]["policyTypes"]

    objs = edit(stack(admit({"podSelector": {"matchLabels": WEB}})), "NetworkPolicy", untyped, "default-deny")
    assert violations(RULE, objs) == [], "a policy without egress rules and types restricts only ingress"
    untyped_with_rule = edit(
        objs, "NetworkPolicy", web_egress({"to": [{"podSelector": {"matchLabels": {"x": "y"}}}]}), "web-allow"
    )
    untyped_with_rule = edit(untyped_with_rule, "NetworkPolicy", untyped, "web-allow")
    assert violations(RULE, untyped_with_rule), "an egress rule makes web-allow restrict egress"


@pytest.mark.parametrize(
    ("peer", "reported"),
    [
        ({"podSelector": {"matchLabels": WEB}}, True),
        ({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "nobody"}}}, False),
        (
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}},
            False,
        ),  # a namespace, no caller named
        ({"ipBlock": {"cidr": "10.0.0.0/8"}}, False),
        ({"podSelector": {}}, True),  # every pod of the namespace: web among them
        (
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}},
                "podSelector": {"matchLabels": WEB},
            },
            True,
        ),
        (
            {
                "namespaceSelector": {"matchLabels": {"team": "storefront"}},
                "podSelector": {"matchLabels": WEB},
            },
            False,
        ),
    ],
)
def test_only_callers_named_by_a_pod_selector_are_judged(peer: dict[str, Any], reported: bool) -> None:
    assert bool(violations(RULE, stack(admit(peer)))) is reported


def test_an_admission_without_sources_names_no_caller() -> None:
    assert violations(RULE, stack(admit({"podSelector": {"matchLabels": WEB}}, ports=[]))) != []
    everyone = edit(
        good_stack(),
        "NetworkPolicy",
        lambda p: p["spec"].update(ingress=[{"ports": [{"port": "http"}]}]),
        "api-allow",
    )
    assert violations(RULE, everyone) == []


def test_a_caller_in_another_namespace_is_found_through_the_namespace_labels() -> None:
    """web lives in `front`, labelled team=storefront by its Namespace object in the stack."""
    objs = [o for o in good_stack() if "web" not in o.name] + good_stack("front")[1:]
    objs = [o for o in objs if not (o.namespace == "front" and "api" in o.name)]
    objs.append(make("Namespace", "front", {"metadata": {"labels": {"team": "storefront"}}}))
    peer = {"namespaceSelector": {"matchLabels": {"team": "storefront"}}, "podSelector": {"matchLabels": WEB}}
    objs = edit(objs, "NetworkPolicy", admit(peer), "api-allow")
    (message,) = violations(RULE, objs)
    assert message.startswith("Deployment front/web-1a2b3c4d is admitted to Deployment shop/api-1a2b3c4d")
    into_shop = {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}},
                "podSelector": {"matchLabels": API},
            }
        ]
    }
    assert violations(RULE, edit(objs, "NetworkPolicy", web_egress(into_shop), "web-allow")) == []
    same_namespace_only = {"to": [{"podSelector": {"matchLabels": API}}]}  # pods of front, not shop
    assert violations(RULE, edit(objs, "NetworkPolicy", web_egress(same_namespace_only), "web-allow"))


def test_unknown_values_skip_the_pair_instead_of_failing_it() -> None:
    unknown_selector = stack(admit({"podSelector": {"matchLabels": {"app.kubernetes.io/name": UNKNOWN}}}))
    assert violations(RULE, unknown_selector) == []
    unknown_egress = stack(admit({"podSelector": {"matchLabels": WEB}}), web_egress({"to": UNKNOWN}))
    assert violations(RULE, unknown_egress) == []

    def unknown_labels(props: dict[str, Any]) -> None:
        props["spec"]["podSelector"] = {"matchLabels": {"app.kubernetes.io/name": UNKNOWN}}

    undecided = edit(
        stack(admit({"podSelector": {"matchLabels": WEB}}), web_egress(TO_API)),
        "NetworkPolicy",
        unknown_labels,
        "web-allow",
    )
    assert violations(RULE, undecided) == [], "whether web-allow (and its way to api) selects web is unknown"
