"""Fixtures for rules fixed by Kubernetes semantics (a passing and a failing case each): numeric
targetPorts, ExternalName Services, TLS from ingress classes that bring their own certificate, and
workloads on ReadWriteOnce volumes (rwo-volume-rollout, and the advice other rules no longer push
on single writers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hastack_policy.objects import K8sObject
from tests.policy.k8s_fixtures import DEV, PROD, all_violations, edit, good_stack, make, pod_spec, violations
from tests.policy.volume_fixtures import (
    SINGLE_WRITER,
    no_single_writer_annotation,
    stateful_stack,
    strategy,
    wiki_spec,
)

Change = Callable[[dict[str, Any]], Any]


def test_a_declared_single_writer_passes_every_rule_in_every_environment() -> None:
    assert all_violations(stateful_stack(), PROD) == {}
    assert all_violations(stateful_stack(), DEV) == {}


def test_replica_and_rolling_update_advice_is_not_pushed_on_single_writers() -> None:
    """What used to be said to a Recreate app on a ReadWriteOnce claim (run 3 replicas with
    RollingUpdate) would hang or corrupt it: only rwo-volume-rollout speaks, with fixes that fit."""
    undeclared = edit(stateful_stack(), "Deployment", no_single_writer_annotation, "wiki")
    assert set(all_violations(undeclared, PROD)) == {"rwo-volume-rollout"}
    rolling = edit(stateful_stack(), "Deployment", strategy({"type": "RollingUpdate"}), "wiki")
    assert set(all_violations(rolling, PROD)) == {"rwo-volume-rollout"}
    for shape in (undeclared, rolling):
        without_replicas = edit(shape, "Deployment", lambda p: p["spec"].pop("replicas"), "wiki")
        assert set(all_violations(without_replicas, PROD)) == {"rwo-volume-rollout"}


def test_single_writers_are_configured_per_environment() -> None:
    undeclared = edit(stateful_stack(), "Deployment", no_single_writer_annotation, "wiki")
    assert DEV["rwo-volume-rollout"]["singleWriter"] == "allow"
    assert violations("rwo-volume-rollout", undeclared, DEV) == []
    assert violations("rwo-volume-rollout", undeclared, PROD)
    forbid = {"rwo-volume-rollout": {"singleWriter": "forbid"}}
    assert violations("rwo-volume-rollout", stateful_stack(), forbid) == [
        "Deployment shop/wiki-5e6f7a8b is a single writer (every rollout stops it) and this environment "
        "forbids single writers (singleWriter: forbid): run it as a StatefulSet with volumeClaimTemplates "
        "(a volume per pod) with an app that replicates"
    ]


def test_recreate_on_claims_many_nodes_may_mount_is_told_to_roll() -> None:
    shared = stateful_stack(("ReadWriteMany",))
    assert violations(
        "rwo-volume-rollout", edit(shared, "Deployment", no_single_writer_annotation, "wiki")
    ) == [
        "Deployment shop/wiki-5e6f7a8b uses strategy Recreate although every claim it writes (data) may be "
        "mounted by many nodes: each rollout stops the app for nothing; use RollingUpdate"
    ]
    rolling = edit(shared, "Deployment", strategy({"type": "RollingUpdate"}), "wiki")
    assert violations("rwo-volume-rollout", rolling) == []


def test_read_only_and_unknown_claims_are_no_rollout_hazard() -> None:
    def read_only(props: dict[str, Any]) -> None:
        props["spec"]["strategy"] = {"type": "RollingUpdate"}
        props["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["readOnly"] = True

    assert violations("rwo-volume-rollout", edit(stateful_stack(), "Deployment", read_only, "wiki")) == []
    outside = [o for o in stateful_stack() if o.kind != "PersistentVolumeClaim"]
    rolling = edit(outside, "Deployment", strategy({"type": "RollingUpdate"}), "wiki")
    assert violations("rwo-volume-rollout", rolling) == [], "a claim made elsewhere has unknown access modes"


def test_replicas_cannot_share_a_read_write_once_claim_whatever_owns_the_count() -> None:
    """Three StatefulSet pods mounting one claim (not volumeClaimTemplates), or an HPA scaling a
    Deployment on it: the pods on other nodes never start."""
    shared = edit(stateful_stack(), "Deployment", lambda p: p["spec"].pop("replicas"), "wiki")
    hpa = make(
        "HorizontalPodAutoscaler",
        "wiki",
        {
            "metadata": {"namespace": "shop"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "wiki-5e6f7a8b"},
                "minReplicas": 2,
                "maxReplicas": 4,
            },
        },
    )
    assert (
        "Deployment shop/wiki-5e6f7a8b runs an HPA floor of 2 replicas on ReadWriteOnce claim shop/data: "
        "pods on other nodes cannot mount it"
    ) in violations("rwo-volume-rollout", [*shared, hpa])[0]
    labels = {"app.kubernetes.io/name": "cache"}
    statefulset = make(
        "StatefulSet",
        "cache",
        {
            "metadata": {"namespace": "shop"},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": wiki_spec()},
            },
        },
    )
    assert violations("rwo-volume-rollout", [*stateful_stack(), statefulset]) == [
        "StatefulSet shop/cache runs 3 replicas on ReadWriteOnce claim shop/data: pods on other nodes cannot "
        "mount it; run it as a StatefulSet with volumeClaimTemplates (a volume per pod), or use a "
        "ReadWriteMany claim"
    ]


def _statefulset(annotations: dict[str, str]) -> K8sObject:
    labels = {"app.kubernetes.io/name": "db", "app.kubernetes.io/instance": "db"}
    return make(
        "StatefulSet",
        "db",
        {
            "metadata": {"namespace": "shop", "labels": labels, "annotations": annotations},
            "spec": {
                "replicas": 1,
                "serviceName": "db",
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": pod_spec("db")},
                "volumeClaimTemplates": [
                    {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}
                ],
            },
        },
    )


DB_SERVICE = make(
    "Service",
    "db",
    {
        "metadata": {"namespace": "shop"},
        "spec": {
            "clusterIP": "None",
            "selector": {"app.kubernetes.io/name": "db", "app.kubernetes.io/instance": "db"},
            "ports": [{"port": 5432}],
        },
    },
)


def test_a_single_replica_statefulset_is_offered_the_single_writer_declaration() -> None:
    plain = [*good_stack(), _statefulset({}), DB_SERVICE]
    assert violations("min-replicas", plain) == [
        "StatefulSet shop/db spec.replicas is 1; at least 3 needed: set spec.replicas: 3; an app that must "
        "run alone (one leader or writer, e.g. a Redis primary or a VPN router, where more replicas would "
        "be independent writers) is declared with annotation hastack.dev/single-writer: '<why>' instead"
    ]
    declared = [*good_stack(), _statefulset(dict(SINGLE_WRITER)), DB_SERVICE]
    assert violations("min-replicas", declared) == []
    assert violations("rwo-volume-rollout", declared) == []
    assert violations("rwo-volume-rollout", declared, {"rwo-volume-rollout": {"singleWriter": "forbid"}})


# ---- Services ----------------------------------------------------------------------------------


def _without_container_ports(props: dict[str, Any]) -> None:
    for container in props["spec"]["template"]["spec"]["containers"]:
        container.pop("ports", None)
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            if probe in container:
                container[probe]["httpGet"]["port"] = 8080


def test_a_numeric_target_port_needs_no_declared_container_port() -> None:
    undeclared = edit(good_stack(), "Deployment", _without_container_ports)
    by_number = edit(undeclared, "Service", lambda p: p["spec"]["ports"][0].update(targetPort=8080))
    assert violations("service-selects-pods", by_number) == []
    assert violations("service-selects-pods", undeclared) == [
        "Service shop/web port 80 targetPort 'http' matches no container port of Deployment "
        "shop/web-1a2b3c4d (declared: none): a named targetPort must be declared: use one of those"
    ]


def _service_type(value: str, **spec: Any) -> Change:
    return lambda p: p["spec"].update(type=value, **spec)


def test_an_external_name_service_is_an_alias_not_an_exposure() -> None:
    database = edit(
        good_stack(), "Service", _service_type("ExternalName", externalName="db.example.rds.amazonaws.com")
    )
    assert violations("service-type-allowed", database) == []
    assert violations("service-selects-pods", database) == []
    strict = {"service-type-allowed": {**PROD["service-type-allowed"], "allowExternalName": False}}
    assert violations("service-type-allowed", database, strict) == [
        "Service shop/web is an ExternalName alias of db.example.rds.amazonaws.com, which this environment "
        "does not allow (allowExternalName: false): call that host by its own DNS name, or set "
        "allowExternalName: true"
    ]
    port_number = {"number": 443}
    proxied = edit(
        edit(database, "Service", lambda p: p["spec"].pop("ports")),
        "Ingress",
        lambda p: p["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"].update(port=port_number),
    )
    assert violations("ingress-backend-exists", proxied) == [], "the controller uses the backend's number"
    named_port = edit(
        proxied,
        "Ingress",
        lambda p: p["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"].update(
            port={"name": "https"}
        ),
    )
    assert violations("ingress-backend-exists", named_port) == [
        "Ingress shop/web spec.rules[0].http.paths[0] backend port.name 'https' is not a port of Service "
        "shop/web (ports: none): use one of those"
    ]
    balancer = edit(good_stack(), "Service", _service_type("LoadBalancer"))
    assert violations("service-type-allowed", balancer) == [
        "Service shop/web spec.type is LoadBalancer; allowed: ClusterIP: use type ClusterIP behind the "
        "Ingress"
    ]


# ---- TLS from the ingress class ----------------------------------------------------------------


def _alb(props: dict[str, Any], *, legacy: bool = False) -> None:
    """An AWS Load Balancer Controller Ingress: ACM certificates found by host, no Secret."""
    props["metadata"]["annotations"] = {"alb.ingress.kubernetes.io/scheme": "internet-facing"}
    if legacy:
        del props["spec"]["ingressClassName"]
        props["metadata"]["annotations"]["kubernetes.io/ingress.class"] = "alb"
    else:
        props["spec"]["ingressClassName"] = "alb"
    props["spec"]["tls"] = [{"hosts": ["web.example.com"]}]


def test_tls_without_secret_is_accepted_for_classes_configured_to_bring_certificates() -> None:
    alb = edit(good_stack(), "Ingress", _alb)
    assert violations("ingress-tls-coverage", alb) == [
        "Ingress shop/web spec.tls[0] has no secretName: name the certificate Secret, or, if ingress class "
        "alb supplies certificates itself, list it in this rule's tlsWithoutSecretClasses config"
    ]
    settings = {"ingress-tls-coverage": {**PROD["ingress-tls-coverage"], "tlsWithoutSecretClasses": ["alb"]}}
    assert violations("ingress-tls-coverage", alb, settings) == []
    legacy = edit(good_stack(), "Ingress", lambda p: _alb(p, legacy=True))
    assert violations("ingress-tls-coverage", legacy, settings) == []
    other_class = edit(alb, "Ingress", lambda p: p["spec"].update(ingressClassName="nginx"))
    assert violations("ingress-tls-coverage", other_class, settings)
    uncovered = edit(alb, "Ingress", lambda p: p["spec"].update(tls=[]))
    assert violations("ingress-tls-coverage", uncovered, settings) == [
        "Ingress shop/web host web.example.com is not covered by any spec.tls entry: add it to "
        "spec.tls[].hosts with a secretName"
    ], "the class supplies a certificate only for hosts its spec.tls lists"


def test_an_ingress_naming_its_certificate_in_a_controller_annotation_needs_no_tls_entries() -> None:
    """The ALB pattern without spec.tls: `certificate-arn` names the ACM certificate for every host."""

    def arn(props: dict[str, Any]) -> None:
        _alb(props)
        props["spec"].pop("tls")
        props["metadata"]["annotations"]["alb.ingress.kubernetes.io/certificate-arn"] = (
            "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c"
        )

    named = edit(good_stack(), "Ingress", arn)
    assert violations("ingress-tls-coverage", named) == []
    none = {"ingress-tls-coverage": {**PROD["ingress-tls-coverage"], "certificateAnnotations": []}}
    assert violations("ingress-tls-coverage", named, none) == [
        "Ingress shop/web host web.example.com is not covered by any spec.tls entry: add it to "
        "spec.tls[].hosts with a secretName"
    ]
