"""Kyverno-style fixtures: for every rule, the good stack passes and one targeted change fails it,
with the rule id and the key parts of the message (resource, field, value found, value needed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hastack_policy import RULES, RULES_BY_ID
from tests.policy.k8s_fixtures import (
    DEV,
    PROD,
    all_violations,
    container,
    edit,
    good_stack,
    make,
    pod_spec,
    violations,
)

Change = Callable[[dict[str, Any]], Any]


def _set(path: str, value: Any) -> Change:
    """A change that sets a dotted path (list indexes as numbers) in the props."""

    def change(props: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = props
        for part in parents:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        if value is _DELETE:
            del node[int(last) if last.isdigit() else last]
        else:
            node[int(last) if last.isdigit() else last] = value

    return change


_DELETE = object()
POD = "spec.template.spec"
C0 = f"{POD}.containers.0"

# (rule, kind, pulumi name, change, message parts)
FAILING: list[tuple[str, str, str, Change, list[str]]] = [
    (
        "hpa-replica-bounds",
        "HorizontalPodAutoscaler",
        "web",
        _set("spec.minReplicas", 2),
        ["minReplicas is 2", "at least 3"],
    ),
    (
        "hpa-replica-bounds",
        "HorizontalPodAutoscaler",
        "web",
        _set("spec.maxReplicas", 3),
        ["maxReplicas is 3", "never scale out"],
    ),
    (
        "probes-present",
        "Deployment",
        "web",
        _set(f"{C0}.readinessProbe", _DELETE),
        ["container web", "no readinessProbe"],
    ),
    (
        "liveness-not-readiness",
        "Deployment",
        "web",
        lambda p: container(p).update(livenessProbe=container(p)["readinessProbe"]),
        ["livenessProbe is identical"],
    ),
    (
        "probe-ports-exist",
        "Deployment",
        "web",
        _set(f"{C0}.livenessProbe.httpGet.port", "metrics"),
        ["livenessProbe.httpGet.port 'metrics'", "declared: http"],
    ),
    (
        "rolling-update-keeps-capacity",
        "Deployment",
        "web",
        _set("spec.strategy", {"type": "Recreate"}),
        ["Recreate"],
    ),
    (
        "rolling-update-keeps-capacity",
        "Deployment",
        "api",
        _set("spec.strategy.rollingUpdate.maxUnavailable", "50%"),
        ["maxUnavailable 50% takes 1 of 3 pods", "at most 0"],
    ),
    (
        "rolling-update-keeps-capacity",
        "Deployment",
        "web",
        _set("spec.strategy", _DELETE),
        ["maxUnavailable is 25%", "no fixed replica count"],
    ),
    (
        "spread-or-anti-affinity",
        "Deployment",
        "web",
        _set(f"{POD}.topologySpreadConstraints", _DELETE),
        ["not spread over topology.kubernetes.io/zone, kubernetes.io/hostname"],
    ),
    (
        "spread-or-anti-affinity",
        "Deployment",
        "web",
        _set(f"{POD}.topologySpreadConstraints.0.whenUnsatisfiable", "ScheduleAnyway"),
        ["spread over topology.kubernetes.io/zone is not enforced", "DoNotSchedule"],
    ),
    (
        "spread-or-anti-affinity",
        "Deployment",
        "web",
        _set(f"{POD}.topologySpreadConstraints.0.labelSelector", {"matchLabels": {"app": "other"}}),
        ["not spread over topology.kubernetes.io/zone"],
    ),
    (
        "spread-or-anti-affinity",
        "Deployment",
        "web",
        _set(f"{POD}.topologySpreadConstraints.0.minDomains", _DELETE),
        ["hard spread over topology.kubernetes.io/zone has minDomains unset", "set minDomains: 3"],
    ),
    (
        "spread-or-anti-affinity",
        "Deployment",
        "web",
        _set(f"{POD}.topologySpreadConstraints.0.minDomains", 2),
        ["has minDomains 2", "fewer than 3 domains"],
    ),
    (
        "spread-or-anti-affinity",
        "Deployment",
        "web",
        _set(f"{POD}.topologySpreadConstraints.1.minDomains", 2),
        ["spread over kubernetes.io/hostname sets minDomains with whenUnsatisfiable ScheduleAnyway"],
    ),
    (
        "ephemeral-storage-bounded",
        "Deployment",
        "web",
        _set(f"{C0}.resources.limits", {"memory": "256Mi"}),
        ["has no resources.limits.ephemeral-storage", "disk pressure"],
    ),
    (
        "ephemeral-storage-bounded",
        "Deployment",
        "web",
        _set(
            f"{C0}.resources", {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "1Gi"}}
        ),
        ["has no resources.requests.ephemeral-storage, resources.limits.ephemeral-storage"],
    ),
    (
        "resource-units",
        "Deployment",
        "web",
        _set(f"{C0}.resources.limits.memory", "512m"),
        ["resources.limits.memory is 512m", "the unit 'm' makes no sense for memory", "512Mi, 1Gi"],
    ),
    (
        "resource-units",
        "Deployment",
        "web",
        _set(f"{C0}.resources.requests.cpu", "1Gi"),
        ["resources.requests.cpu is 1Gi", "cores or millicores, such as 0.5, 2 or 250m"],
    ),
    (
        "resource-units",
        "Deployment",
        "web",
        _set(f"{C0}.resources.requests.ephemeral-storage", 0.5),
        ["resources.requests.ephemeral-storage is 0.5", "whole number of bytes"],
    ),
    (
        "priority-class-set",
        "Deployment",
        "web",
        _set(f"{POD}.priorityClassName", _DELETE),
        ["sets no priorityClassName", "preempted"],
    ),
    (
        "priority-class-set",
        "Deployment",
        "web",
        _set(f"{POD}.priorityClassName", "system-node-critical"),
        ["priorityClassName is system-node-critical, reserved for kube-system"],
    ),
    (
        "pdb-allows-eviction",
        "PodDisruptionBudget",
        "api",
        _set("spec.maxUnavailable", 2),
        ["lets 2 pod(s) go with 3 replicas (maxUnavailable 2), keeping 1", "at least 2 must stay"],
    ),
    (
        "pdb-policy-allows-disruption",
        "PodDisruptionBudget",
        "web",
        _set("spec.maxUnavailable", 0),
        ["maxUnavailable is 0"],
    ),
    (
        "pdb-policy-allows-disruption",
        "PodDisruptionBudget",
        "web",
        _set("spec.unhealthyPodEvictionPolicy", _DELETE),
        ["unhealthyPodEvictionPolicy is unset", "AlwaysAllow"],
    ),
    (
        "resources-specified",
        "Deployment",
        "web",
        _set(f"{C0}.resources", {"limits": {"memory": "1Gi"}}),
        ["no resources.requests.cpu, resources.requests.memory"],
    ),
    (
        "pss-restricted",
        "Deployment",
        "web",
        _set(f"{C0}.securityContext.allowPrivilegeEscalation", True),
        ["allowPrivilegeEscalation is true", "set it to false"],
    ),
    (
        "pss-restricted",
        "Deployment",
        "web",
        _set(f"{POD}.securityContext.runAsNonRoot", _DELETE),
        ["may run as root"],
    ),
    (
        "pss-restricted",
        "Deployment",
        "web",
        _set(f"{POD}.securityContext.runAsUser", 0),
        ["runs as UID 0", ">= 10000"],
    ),
    (
        "pss-restricted",
        "Deployment",
        "web",
        _set(f"{POD}.securityContext.seccompProfile.type", "Unconfined"),
        ["seccompProfile is Unconfined", "RuntimeDefault"],
    ),
    (
        "pss-restricted",
        "Deployment",
        "web",
        _set(f"{C0}.securityContext.capabilities", {"add": ["NET_ADMIN"]}),
        ["does not drop ALL", "adds capabilities ['NET_ADMIN']"],
    ),
    (
        "read-only-root-filesystem",
        "Deployment",
        "web",
        _set(f"{C0}.securityContext.readOnlyRootFilesystem", False),
        ["readOnlyRootFilesystem is false"],
    ),
    (
        "no-service-account-token",
        "Deployment",
        "web",
        _set(f"{POD}.automountServiceAccountToken", _DELETE),
        ["automountServiceAccountToken is unset"],
    ),
    ("image-pinned", "Deployment", "web", _set(f"{C0}.image", "nginx"), ["image 'nginx' has no tag"]),
    ("image-pinned", "Deployment", "web", _set(f"{C0}.image", "ghcr.io/acme/web:latest"), [":latest tag"]),
    (
        "image-pinned",
        "Deployment",
        "web",
        _set(f"{C0}.image", "ghcr.io/acme/web:1.2.3"),
        ["not pinned by digest"],
    ),
    (
        "image-tag-fixed",
        "Deployment",
        "web",
        _set(f"{C0}.image", "ghcr.io/acme/web:main"),
        ["image 'ghcr.io/acme/web:main' uses the tag 'main'", "moves"],
    ),
    ("no-host-access", "Deployment", "web", _set(f"{POD}.hostNetwork", True), ["hostNetwork: true"]),
    (
        "no-host-access",
        "Deployment",
        "web",
        _set(f"{POD}.volumes", [{"name": "docker", "hostPath": {"path": "/var/run"}}]),
        ["volume docker mounts hostPath /var/run"],
    ),
    ("no-host-access", "Deployment", "web", _set(f"{C0}.ports.0.hostPort", 8080), ["binds hostPort 8080"]),
    (
        "service-type-allowed",
        "Service",
        "web",
        _set("spec.type", "LoadBalancer"),
        ["spec.type is LoadBalancer", "allowed: ClusterIP"],
    ),
    (
        "no-default-namespace",
        "Service",
        "web",
        _set("metadata.namespace", _DELETE),
        ["Service web is in namespace default", "no metadata.namespace"],
    ),
    (
        "namespace-pod-security",
        "Namespace",
        "shop",
        _set("metadata.labels", {}),
        ["pod-security.kubernetes.io/enforce is unset", "restricted"],
    ),
    # cross-resource
    (
        "min-replicas",
        "Deployment",
        "api",
        _set("spec.replicas", 2),
        ["Deployment shop/api-1a2b3c4d spec.replicas is 2", "at least 3"],
    ),
    (
        "min-replicas",
        "Deployment",
        "api",
        _set("spec.replicas", _DELETE),
        ["spec.replicas is unset (defaults to 1)"],
    ),
    (
        "pdb-coverage",
        "PodDisruptionBudget",
        "web",
        _set("spec.selector", {"matchLabels": {"app.kubernetes.io/name": "nope"}}),
        ["Deployment shop/web-1a2b3c4d runs an HPA floor of 3 replicas but no PodDisruptionBudget selects"],
    ),
    (
        "pdb-allows-eviction",
        "PodDisruptionBudget",
        "web",
        lambda p: p["spec"].update(minAvailable=3, maxUnavailable=None),
        [
            "PodDisruptionBudget shop/web allows no eviction: minAvailable 3 with an HPA floor of 3 "
            "replicas; set maxUnavailable: 1"
        ],
    ),
    (
        "hpa-target-exists",
        "HorizontalPodAutoscaler",
        "web",
        _set("spec.scaleTargetRef.name", "web"),
        ["scaleTargetRef Deployment/web names no workload in namespace shop"],
    ),
    (
        "hpa-target-exists",
        "Deployment",
        "web",
        _set("spec.replicas", 3),
        ["Deployment shop/web-1a2b3c4d sets spec.replicas 3 but HorizontalPodAutoscaler shop/web owns"],
    ),
    (
        "hpa-metrics-have-requests",
        "Deployment",
        "web",
        _set(f"{C0}.resources.requests", {"memory": "1Gi"}),
        ["scales on cpu Utilization but container web", "no resources.requests.cpu"],
    ),
    (
        "service-selects-pods",
        "Service",
        "web",
        _set("spec.selector", {"app.kubernetes.io/name": "wbe"}),
        ["spec.selector {app.kubernetes.io/name=wbe} selects the pods of no workload"],
    ),
    (
        "service-selects-pods",
        "Service",
        "web",
        _set("spec.ports.0.targetPort", "htpp"),
        ["targetPort 'htpp' matches no container port", "declared: http:8080"],
    ),
    (
        "service-selects-pods",
        "Service",
        "web",
        _set("spec.ports.0.targetPort", 9090),
        ["targetPort 9090 matches no container port"],
    ),
    (
        "ingress-backend-exists",
        "Ingress",
        "web",
        _set("spec.rules.0.http.paths.0.backend.service.name", "webb"),
        ["backend names Service webb, which is not in namespace shop"],
    ),
    (
        "ingress-backend-exists",
        "Ingress",
        "web",
        _set("spec.rules.0.http.paths.0.backend.service.port", {"number": 8080}),
        ["backend port.number 8080 is not a port of Service shop/web", "ports: http:80"],
    ),
    (
        "ingress-tls-coverage",
        "Ingress",
        "web",
        _set("spec.tls.0.hosts", ["other.example.com"]),
        ["host web.example.com is not covered by any spec.tls entry"],
    ),
    (
        "ingress-tls-coverage",
        "Ingress",
        "web",
        _set("metadata.annotations", {}),
        ["spec.tls[0].secretName web-tls is not created by this stack", "externalSecrets"],
    ),
    (
        "network-policy-coverage",
        "NetworkPolicy",
        "default-deny",
        _set("spec.podSelector", {"matchLabels": {"x": "y"}}),
        ["namespace shop has no default-deny NetworkPolicy"],
    ),
    (
        "egress-not-open",
        "NetworkPolicy",
        "web-allow",
        _set("spec.egress", [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443}]}]),
        [
            "NetworkPolicy shop/web-allow spec.egress[0] allows every address (ipBlock 0.0.0.0/0)",
            "open-egress-reason",
        ],
    ),
    (
        "egress-not-open",
        "NetworkPolicy",
        "web-allow",
        _set("spec.egress", [{"to": [{"namespaceSelector": {}, "podSelector": {}}]}]),
        ["spec.egress[0] allows every namespace (namespaceSelector {})"],
    ),
    (
        "egress-not-open",
        "NetworkPolicy",
        "web-allow",
        _set("spec.egress", [{"ports": [{"port": 53, "protocol": "UDP"}]}]),
        ["spec.egress[0] allows every destination (no `to`)"],
    ),
]

DATABASE_EGRESS = {
    "to": [{"ipBlock": {"cidr": "10.40.0.0/24", "except": ["10.40.0.0/28"]}}],
    "ports": [{"port": 5432}],
}


def test_egress_to_named_destinations_or_acknowledged_open_egress_passes() -> None:
    scoped = [
        DATABASE_EGRESS,
        {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "payments"}}}]},
        {"to": [{"namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "Exists"}]}}]},
        {"to": [{"podSelector": {"matchLabels": {"app": "cache"}}}]},
    ]
    assert (
        violations(
            "egress-not-open", edit(good_stack(), "NetworkPolicy", _set("spec.egress", scoped), "web-allow")
        )
        == []
    )
    open_rule = {"to": [{"ipBlock": {"cidr": "::/0"}}], "ports": [{"port": 443}]}

    def acknowledged(props: dict[str, Any]) -> None:
        props["spec"]["egress"] = [open_rule]
        props["metadata"]["annotations"] = {"hastack.dev/open-egress-reason": "payment provider rotates IPs"}

    assert violations("egress-not-open", edit(good_stack(), "NetworkPolicy", acknowledged, "web-allow")) == []

    def blank_reason(props: dict[str, Any]) -> None:
        acknowledged(props)
        props["metadata"]["annotations"] = {"hastack.dev/open-egress-reason": " "}

    blank = edit(good_stack(), "NetworkPolicy", blank_reason, "web-allow")
    assert violations("egress-not-open", blank)
    assert PROD["egress-not-open"]["enforcementLevel"] == "mandatory"
    assert DEV["egress-not-open"]["enforcementLevel"] == "advisory"


def _case_id(case: tuple[str, str, str, Change, list[str]]) -> str:
    return f"{case[0]}:{case[4][0][:40]}"


def test_good_stack_passes_every_rule_in_every_environment() -> None:
    assert all_violations(good_stack(), PROD) == {}
    assert all_violations(good_stack(), DEV) == {}


@pytest.mark.parametrize("case", FAILING, ids=[_case_id(c) for c in FAILING])
def test_failing_fixture_reports_the_rule(case: tuple[str, str, str, Change, list[str]]) -> None:
    rule_id, kind, name, change, parts = case
    messages = violations(rule_id, edit(good_stack(), kind, change, name))
    assert messages, f"{rule_id} reported nothing"
    text = "\n".join(messages)
    for part in parts:
        assert part in text


def test_every_rule_has_a_failing_fixture() -> None:
    from tests.policy.test_policy_network import NETWORK_FAILING
    from tests.policy.test_policy_semantics import VOLUME_FAILING
    from tests.policy.test_policy_traffic import TRAFFIC_FAILING

    covered = {case[0] for case in FAILING + TRAFFIC_FAILING + VOLUME_FAILING + NETWORK_FAILING} | {
        "no-bare-pods"
    }
    assert covered == set(RULES_BY_ID)


def test_no_bare_pods() -> None:
    pod = make("Pod", "debug", {"metadata": {"namespace": "shop"}, "spec": pod_spec()})
    assert violations("no-bare-pods", [pod]) == [
        "Pod shop/debug is a bare Pod that nothing recreates after a node failure: use a Deployment"
    ]
    assert violations("no-bare-pods", good_stack()) == []


def test_every_rule_carries_its_metadata() -> None:
    for rule in RULES:
        assert rule.id == rule.id.lower() and " " not in rule.id
        assert rule.description.endswith(".")
        assert rule.severity in {"low", "medium", "high", "critical"}
        assert len(rule.remediation) > 20
        assert rule.default_enforcement in {"advisory", "mandatory"}
        for key, schema in rule.config.items():
            assert "default" in schema, f"{rule.id}.{key} has no default"
            assert "type" in schema


def test_dev_is_laxer_than_prod() -> None:
    web_with_tag = edit(good_stack(), "Deployment", _set(f"{C0}.image", "ghcr.io/acme/web:1.2.3"))
    assert violations("image-pinned", web_with_tag, DEV) == []
    two = edit(good_stack(), "Deployment", _set("spec.replicas", 2), "api")
    assert violations("min-replicas", two, DEV) == []
    assert violations("min-replicas", two, PROD)
    advice = {rule.id for rule in RULES if rule.tier == "advice"}
    assert advice == {"priority-class-set", "ephemeral-storage-bounded", "image-tag-fixed"}
    assert {k for k, v in PROD.items() if v["enforcementLevel"] != "mandatory"} == advice
    assert any(v["enforcementLevel"] == "advisory" for k, v in DEV.items() if k not in advice)


def test_quantities_in_plain_numbers_are_read_as_the_api_server_reads_them() -> None:
    """Numbers arrive as floats: `cpu: 1` is 1.0 and one core, `memory: 1` one byte, both fine."""
    whole = edit(good_stack(), "Deployment", _set(f"{C0}.resources.requests", {"cpu": 1, "memory": 1048576}))
    assert violations("resource-units", whole) == []
    assert (
        violations(
            "resource-units", edit(good_stack(), "Deployment", _set(f"{C0}.resources.limits.cpu", 0.25))
        )
        == []
    )


def test_min_domains_are_checked_only_where_the_profile_asks() -> None:
    unset = edit(good_stack(), "Deployment", _set(f"{POD}.topologySpreadConstraints.0.minDomains", _DELETE))
    assert violations("spread-or-anti-affinity", unset, DEV) == []
    assert violations("spread-or-anti-affinity", unset, PROD)
    anti = edit(
        unset,
        "Deployment",
        _set(
            f"{POD}.affinity",
            {
                "podAntiAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "topologyKey": "topology.kubernetes.io/zone",
                            "labelSelector": {
                                "matchLabels": {
                                    "app.kubernetes.io/name": "web",
                                    "app.kubernetes.io/instance": "web",
                                }
                            },
                        }
                    ]
                }
            },
        ),
    )
    assert violations("spread-or-anti-affinity", anti, PROD) == []  # one pod per zone is stricter still


def _live(replicas: int, owner: str) -> Change:
    """The Deployment as the engine shows it after `up`: spec.replicas filled in by the cluster, and
    managedFields saying whether the provider's server-side Apply (or only the HPA) owns it."""

    def change(props: dict[str, Any]) -> None:
        props["spec"]["replicas"] = replicas
        applied: dict[str, Any] = {"f:spec": {"f:template": {}}}
        scale: dict[str, Any] = {"f:spec": {"f:replicas": {}}}
        if owner == "apply":
            applied["f:spec"]["f:replicas"] = {}
        props["metadata"]["managedFields"] = [
            {"manager": "pulumi-kubernetes-1a2b3c4d", "operation": "Apply", "fieldsV1": applied},
            {
                "manager": "kube-controller-manager",
                "operation": "Update",
                "subresource": "scale",
                "fieldsV1": scale,
            },
        ]

    return change


def test_hpa_target_judges_the_applied_replicas_of_a_live_deployment() -> None:
    """After `up` the stack rules see outputs: a replica count the API server defaulted and the HPA
    raised is not the program's; one the provider applied still is."""
    defaulted = edit(good_stack(), "Deployment", _live(3, owner="hpa"))
    assert violations("hpa-target-exists", defaulted) == []
    assert violations("min-replicas", defaulted) == []
    applied = edit(good_stack(), "Deployment", _live(3, owner="apply"))
    assert violations("hpa-target-exists", applied) == [
        "Deployment shop/web-1a2b3c4d sets spec.replicas 3 but HorizontalPodAutoscaler shop/web owns its "
        "replica count: remove spec.replicas (the two fight on every apply)"
    ]
