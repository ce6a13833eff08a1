"""The tricky cross-resource cases: exact selectors, percentages rounded like Kubernetes, HPA
floors, overlapping PDBs, Services selecting nothing, named and numbered ports, TLS sources.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hastack.wire import UNKNOWN as UNKNOWN_VALUE
from hastack_policy.objects import host_covered, selector_matches
from hastack_policy.stack_index import build_index, selected_workloads
from tests.policy.k8s_fixtures import PROD, edit, good_stack, make, violations

LABELS = {"app.kubernetes.io/name": "web", "tier": "frontend"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({}, True),
        (None, False),
        ({"matchLabels": {"tier": "frontend"}}, True),
        ({"matchLabels": {"tier": "backend"}}, False),
        ({"matchLabels": {"missing": "x"}}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend", "edge"]}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["backend"]}]}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["backend"]}]}, True),
        ({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["frontend"]}]}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "zone", "operator": "Exists"}]}, False),
        ({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, False),
        (
            {
                "matchLabels": {"app.kubernetes.io/name": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["backend"]}],
            },
            False,
        ),
    ],
)
def test_selector_semantics_are_exact(selector: Any, expected: bool) -> None:
    assert selector_matches(selector, LABELS) is expected


def test_selector_with_unknown_is_undecided() -> None:
    from hastack.wire import UNKNOWN

    assert selector_matches({"matchLabels": {"tier": UNKNOWN}}, LABELS) is None
    assert selector_matches({"matchLabels": {"tier": "backend"}, "matchExpressions": UNKNOWN}, LABELS) is None
    assert selector_matches({"matchLabels": {"tier": "frontend"}}, {"tier": UNKNOWN}) is None


def _pdb(spec: dict[str, Any]) -> Any:
    return make("PodDisruptionBudget", "p", {"metadata": {"namespace": "shop"}, "spec": spec})


def _pdb_policy(props: dict[str, Any], **policy: Any) -> None:
    props["spec"].pop("maxUnavailable", None)
    props["spec"].update(policy)


def test_percentage_pdb_against_hpa_floor() -> None:
    ok = edit(good_stack(), "PodDisruptionBudget", lambda p: _pdb_policy(p, minAvailable="50%"))
    assert violations("pdb-allows-eviction", ok) == []
    blocked = edit(good_stack(), "PodDisruptionBudget", lambda p: _pdb_policy(p, minAvailable="90%"))
    assert violations("pdb-allows-eviction", blocked) == [
        "PodDisruptionBudget shop/web allows no eviction: minAvailable 90% with an HPA floor of 3 replicas; "
        "set maxUnavailable: 1"
    ]


def test_hpa_floor_not_spec_replicas_decides_eviction() -> None:
    # The HPA floor (3) counts, even though a HPA-less reading would say "1 replica".
    ok = edit(good_stack(), "PodDisruptionBudget", lambda p: _pdb_policy(p, minAvailable=2))
    assert violations("pdb-allows-eviction", ok) == []
    lower_floor = edit(ok, "HorizontalPodAutoscaler", lambda p: p["spec"].update(minReplicas=2))
    assert (
        "minAvailable 2 with an HPA floor of 2 replicas" in violations("pdb-allows-eviction", lower_floor)[0]
    )


def test_fixed_replicas_decide_eviction_without_hpa() -> None:
    blocked = edit(good_stack(), "PodDisruptionBudget", lambda p: _pdb_policy(p, minAvailable=3), "api")
    assert "minAvailable 3 with 3 replicas" in violations("pdb-allows-eviction", blocked)[0]


def test_two_pdbs_over_the_same_pods() -> None:
    extra = make(
        "PodDisruptionBudget",
        "web-extra",
        {
            "metadata": {"namespace": "shop"},
            "spec": {
                "maxUnavailable": 1,
                "selector": {
                    "matchExpressions": [
                        {"key": "app.kubernetes.io/name", "operator": "In", "values": ["web"]}
                    ]
                },
            },
        },
    )
    messages = violations("pdb-coverage", [*good_stack(), extra])
    assert len(messages) == 1
    assert "Deployment shop/web-1a2b3c4d is selected by 2 PodDisruptionBudgets" in messages[0]
    assert "overlapping PDBs block eviction" in messages[0]


def test_pdb_with_matchexpressions_covers_and_notin_excludes() -> None:
    def by_expression(operator: str) -> Any:
        expression = {"key": "app.kubernetes.io/name", "operator": operator, "values": ["web"]}
        return lambda p: p["spec"].update(selector={"matchExpressions": [expression]})

    covered = edit(good_stack(), "PodDisruptionBudget", by_expression("In"))
    assert violations("pdb-coverage", covered) == []
    # NotIn web selects api's pods: api now has two PDBs, web none.
    inverted = edit(good_stack(), "PodDisruptionBudget", by_expression("NotIn"))
    text = "\n".join(violations("pdb-coverage", inverted))
    assert "web-1a2b3c4d runs an HPA floor of 3 replicas but no PodDisruptionBudget" in text
    assert "api-1a2b3c4d is selected by 2 PodDisruptionBudgets" in text


def test_pdb_selecting_nothing_is_reported() -> None:
    stray = make(
        "PodDisruptionBudget",
        "stray",
        {
            "metadata": {"namespace": "shop"},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "gone"}}},
        },
    )
    assert (
        "PodDisruptionBudget shop/stray selects the pods of no workload"
        in violations("pdb-coverage", [*good_stack(), stray])[0]
    )


def test_service_selecting_nothing_and_other_namespace() -> None:
    moved = edit(good_stack(), "Service", lambda p: p["metadata"].update(namespace="elsewhere"))
    assert (
        "selects the pods of no workload in namespace elsewhere"
        in violations("service-selects-pods", moved)[0]
    )


def test_named_and_numbered_target_ports() -> None:
    by_number = edit(good_stack(), "Service", lambda p: p["spec"]["ports"][0].update(targetPort=8080))
    assert violations("service-selects-pods", by_number) == []
    default_target = edit(
        good_stack(), "Service", lambda p: p["spec"]["ports"][0].update(port=8080, targetPort=None)
    )
    assert violations("service-selects-pods", default_target) == []


def test_ingress_backend_by_port_number() -> None:
    numbered = edit(
        good_stack(),
        "Ingress",
        lambda p: p["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"].update(port={"number": 80}),
    )
    assert violations("ingress-backend-exists", numbered) == []


def test_hpa_default_metric_is_cpu_utilization() -> None:
    no_metrics = edit(good_stack(), "HorizontalPodAutoscaler", lambda p: p["spec"].pop("metrics"))
    no_cpu = edit(
        no_metrics,
        "Deployment",
        lambda p: p["spec"]["template"]["spec"]["containers"][0]["resources"].update(
            requests={"memory": "1Gi"}
        ),
    )
    assert "scales on cpu Utilization" in violations("hpa-metrics-have-requests", no_cpu)[0]


def test_memory_utilization_needs_memory_requests_on_every_container() -> None:
    def add_sidecar_and_metric(props: dict[str, Any]) -> None:
        props["spec"]["template"]["spec"]["containers"].append(
            {"name": "proxy", "image": "envoy:1.30", "resources": {"requests": {"cpu": "50m"}}}
        )

    with_sidecar = edit(good_stack(), "Deployment", add_sidecar_and_metric)
    memory = edit(
        with_sidecar,
        "HorizontalPodAutoscaler",
        lambda p: p["spec"]["metrics"].append(
            {
                "type": "Resource",
                "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 80}},
            }
        ),
    )
    messages = violations("hpa-metrics-have-requests", memory)
    assert messages == [
        "HorizontalPodAutoscaler shop/web scales on memory Utilization but container proxy of "
        "Deployment shop/web-1a2b3c4d has no resources.requests.memory: set it on every container"
    ]


def test_tls_secret_sources() -> None:
    no_annotation = edit(good_stack(), "Ingress", lambda p: p["metadata"].update(annotations={}))
    assert violations("ingress-tls-coverage", no_annotation)
    secret = make("Secret", "web-tls", {"metadata": {"namespace": "shop"}, "type": "kubernetes.io/tls"})
    assert violations("ingress-tls-coverage", [*no_annotation, secret]) == []
    certificate = make(
        "Certificate", "web", {"metadata": {"namespace": "shop"}, "spec": {"secretName": "web-tls"}}
    )
    assert violations("ingress-tls-coverage", [*no_annotation, certificate]) == []
    external = {"ingress-tls-coverage": {**PROD["ingress-tls-coverage"], "externalSecrets": ["shop/web-tls"]}}
    assert violations("ingress-tls-coverage", no_annotation, external) == []
    annotated = edit(
        good_stack(),
        "Ingress",
        lambda p: p["metadata"].update(annotations={"hastack.io/external-tls-secrets": "web-tls"}),
    )
    assert violations("ingress-tls-coverage", annotated) == []


def test_wildcard_tls_hosts() -> None:
    assert host_covered("shop.example.com", ["*.example.com"])
    assert not host_covered("a.shop.example.com", ["*.example.com"])
    assert not host_covered("example.com", ["*.example.com"])


def test_network_policy_with_matchexpressions() -> None:
    def expression(props: dict[str, Any]) -> None:
        props["spec"]["podSelector"] = {
            "matchExpressions": [
                {"key": "app.kubernetes.io/name", "operator": "In", "values": ["web", "api"]}
            ]
        }

    no_default = [o for o in good_stack() if o.name != "default-deny"]
    only_expr = edit(no_default, "NetworkPolicy", expression, "web-allow")
    config = {"network-policy-coverage": {**PROD["network-policy-coverage"], "requireDefaultDeny": False}}
    assert violations("network-policy-coverage", only_expr, config) == []
    narrowed = edit(
        only_expr,
        "NetworkPolicy",
        lambda p: p["spec"]["podSelector"]["matchExpressions"][0].update(values=["web"]),
        "web-allow",
    )
    narrowed = [o for o in narrowed if o.name != "api-allow"]
    messages = violations("network-policy-coverage", narrowed, config)
    assert messages == [
        "Deployment shop/api-1a2b3c4d pods are selected by no NetworkPolicy in namespace shop: add a "
        "default-deny policy (podSelector: {}) and an allow policy for the app"
    ]


_LABEL_VALUES = st.sampled_from(["web", "api", "a", UNKNOWN_VALUE, 1.0])
_LABEL_MAPS = st.dictionaries(st.sampled_from(["app", "tier"]), _LABEL_VALUES, max_size=2)
_SELECTORS = st.one_of(
    st.none(),
    st.just(UNKNOWN_VALUE),
    st.fixed_dictionaries(
        {},
        optional={
            "matchLabels": st.one_of(_LABEL_MAPS, st.just(UNKNOWN_VALUE)),
            "matchExpressions": st.lists(
                st.fixed_dictionaries(
                    {
                        "key": st.sampled_from(["app", "tier", "zone"]),
                        "operator": st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]),
                        "values": st.lists(_LABEL_VALUES, max_size=2),
                    }
                ),
                max_size=2,
            ),
        },
    ),
)


@settings(max_examples=300, deadline=None)
@example(pods=[("shop", {"app": UNKNOWN_VALUE})], namespace="shop", selector={"matchLabels": {"app": "web"}})
@example(
    pods=[("shop", {"app": 1.0}), ("shop", {"app": "web"})],
    namespace="shop",
    selector={"matchLabels": {"app": "web"}},
)
@given(
    pods=st.lists(st.tuples(st.sampled_from(["shop", "ops"]), _LABEL_MAPS), max_size=8),
    namespace=st.sampled_from(["shop", "ops", "empty"]),
    selector=_SELECTORS,
)
def test_the_label_index_selects_what_matching_every_workload_selects(
    pods: list[tuple[str, dict[str, Any]]], namespace: str, selector: Any
) -> None:
    """`selected_workloads` narrows through the index; the answer (and its order) must be what
    matching the selector against every workload of the namespace gives."""
    objs = [
        make(
            "Deployment",
            f"d{n}",
            {
                "metadata": {"namespace": ns},
                "spec": {"template": {"metadata": {"labels": labels}, "spec": {}}},
            },
        )
        for n, (ns, labels) in enumerate(pods)
    ]
    index = build_index(objs)
    everyone = [w for w in index.workloads if w.namespace == namespace]
    results = [(w, selector_matches(selector, w.labels)) for w in everyone]
    matched, undecided = selected_workloads(index, namespace, selector)
    assert [w.obj.urn for w in matched] == [w.obj.urn for w, result in results if result]
    assert undecided == (bool(index.unknown_workloads) or any(result is None for _, result in results))
