"""The patterns public programs use that the pack once judged wrongly (issue 22), each with the
counter-case the fix must keep reporting, and the `outside` profile that judges programs which are
not hastack's own: mandatory for what breaks availability or security, advice for house strictness."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hastack.config.profiles import OUTSIDE, OUTSIDE_PROFILE, PROFILES
from hastack.wire import UNKNOWN
from hastack_policy import RULES, RULES_BY_ID
from hastack_policy.objects import K8sObject
from hastack_policy.pack_config import pack_config
from hastack_policy.rules.image_tag_fixed import moving_tag
from hastack_tools.common.checkout import REPO_ROOT
from tests.policy.k8s_fixtures import DEV, PROD, container, edit, good_stack, pod_spec, violations

OUTSIDE_CONFIG = json.loads((REPO_ROOT / "policy" / "config" / "outside.json").read_text())
POD = "spec.template.spec"


def _pod(props: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = props["spec"]["template"]["spec"]
    return result


# ---- egress-not-open: the DNS peer -------------------------------------------------------------

DNS_PEER = {"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}


def _egress(*peers: dict[str, Any]) -> list[Any]:
    rule = {"to": list(peers), "ports": [{"protocol": "UDP", "port": 53}]}
    return edit(good_stack(), "NetworkPolicy", lambda p: p["spec"].update(egress=[rule]), "web-allow")


def test_the_canonical_dns_peer_is_not_open_egress() -> None:
    assert violations("egress-not-open", _egress(DNS_PEER), PROD) == []


@pytest.mark.parametrize(
    "peer",
    [{"namespaceSelector": {}}, {"namespaceSelector": {}, "podSelector": {}}],
    ids=["every-namespace", "every-pod-of-every-namespace"],
)
def test_every_namespace_without_a_pod_selector_is_still_open(peer: dict[str, Any]) -> None:
    assert violations("egress-not-open", _egress(DNS_PEER, peer), PROD) == [
        "NetworkPolicy shop/web-allow spec.egress[0] allows every namespace (namespaceSelector {}): name the "
        "destination's block or namespace, or say why in the annotation hastack.dev/open-egress-reason"
    ]


# ---- no-service-account-token: a pod that calls the API ---------------------------------------


def _with_account(account: str | None, automount: Any = None) -> list[Any]:
    def change(props: dict[str, Any]) -> None:
        pod = _pod(props)
        pod.pop("automountServiceAccountToken")
        if automount is not None:
            pod["automountServiceAccountToken"] = automount
        if account:
            pod["serviceAccountName"] = account

    return edit(good_stack(), "Deployment", change)


def _binding(kind: str, account: str, namespace: str | None = "shop") -> Any:
    subject: dict[str, Any] = {"kind": "ServiceAccount", "name": account}
    if namespace:
        subject["namespace"] = namespace
    token = f"kubernetes:rbac.authorization.k8s.io/v1:{kind}"
    metadata: dict[str, Any] = {"name": account}
    if kind == "RoleBinding":
        metadata["namespace"] = "shop"
    props = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": account},
        "subjects": [subject],
    }
    return K8sObject(type=token, urn=f"urn:pulumi:test::proj::{token}::{account}", name=account, props=props)


def test_a_pod_whose_own_account_a_role_binding_grants_keeps_its_token() -> None:
    stack = _with_account("reloader")
    assert violations("no-service-account-token", stack, PROD) == [
        "Deployment shop/web-1a2b3c4d pod spec automountServiceAccountToken is unset (mounted by default) "
        "and no RoleBinding or ClusterRoleBinding of the stack grants ServiceAccount reloader anything: set "
        "automountServiceAccountToken: false"
    ]
    assert violations("no-service-account-token", [*stack, _binding("RoleBinding", "reloader")], PROD) == []
    assert (
        violations("no-service-account-token", [*stack, _binding("RoleBinding", "reloader", None)], PROD)
        == []
    )
    assert (
        violations("no-service-account-token", [*stack, _binding("ClusterRoleBinding", "reloader")], PROD)
        == []
    )


def test_a_binding_of_another_account_or_namespace_does_not_excuse_the_pod() -> None:
    stack = _with_account("reloader")
    assert violations("no-service-account-token", [*stack, _binding("RoleBinding", "other")], PROD)
    assert violations(
        "no-service-account-token", [*stack, _binding("ClusterRoleBinding", "reloader", "ops")], PROD
    )
    assert violations("no-service-account-token", [*_with_account(None), _binding("RoleBinding", "x")], PROD)


def test_an_account_that_turns_automount_off_covers_pods_that_leave_it_unset() -> None:
    token = "kubernetes:core/v1:ServiceAccount"
    account = K8sObject(
        type=token,
        urn=f"urn:pulumi:test::proj::{token}::quiet",
        name="quiet",
        props={
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "quiet", "namespace": "shop"},
            "automountServiceAccountToken": False,
        },
    )
    assert violations("no-service-account-token", [*_with_account("quiet"), account], PROD) == []
    assert violations("no-service-account-token", [*_with_account("quiet", True), account], PROD)


def test_an_unknown_binding_skips_the_check() -> None:
    binding = _binding("RoleBinding", "reloader")
    binding.props["subjects"] = UNKNOWN
    assert violations("no-service-account-token", [*_with_account("reloader"), binding], PROD) == []


# ---- min-replicas: serving workloads, single writers ------------------------------------------


def _single_api(*, service: bool, labels: dict[str, str] | None = None) -> list[Any]:
    """The good stack with api at one replica; its Service kept or dropped; extra pod labels."""

    def change(props: dict[str, Any]) -> None:
        props["spec"]["replicas"] = 1
        props["spec"]["template"]["metadata"]["labels"].update(labels or {})

    stack = edit(good_stack(), "Deployment", change, "api")
    return [o for o in stack if service or not (o.kind in {"Service", "Ingress"} and o.name == "api")]


def test_a_workload_no_service_selects_is_not_told_to_multiply_its_work() -> None:
    assert violations("min-replicas", _single_api(service=False), PROD) == []
    assert violations("min-replicas", _single_api(service=True), PROD) == [
        "Deployment shop/api-1a2b3c4d spec.replicas is 1; at least 3 needed: set spec.replicas: 3; an app "
        "that must run alone (one leader or writer, e.g. a Redis primary or a VPN router, where more "
        "replicas would be independent writers) is declared with annotation hastack.dev/single-writer: "
        "'<why>' instead"
    ]


def test_a_service_whose_selector_is_unknown_keeps_the_workload_judged_undecided() -> None:
    stack = edit(_single_api(service=True), "Service", lambda p: p["spec"].update(selector=UNKNOWN), "api")
    assert violations("min-replicas", stack, PROD) == []


def test_a_leader_is_told_about_the_annotation_first_and_a_declared_one_is_left_alone() -> None:
    leader = _single_api(service=True, labels={"role": "leader"})
    assert violations("min-replicas", leader, PROD) == [
        "Deployment shop/api-1a2b3c4d spec.replicas is 1, and its pod label role=leader names a single "
        "writer, which more replicas would turn into independent writers: if it is one, declare it with "
        "annotation hastack.dev/single-writer: '<why>'; if it replicates, set spec.replicas: 3"
    ]
    declared = edit(
        leader,
        "Deployment",
        lambda p: p["metadata"].update(annotations={"hastack.dev/single-writer": "one Redis primary"}),
        "api",
    )
    assert violations("min-replicas", declared, PROD) == []


# ---- messages: numbers as the manifest has them -------------------------------------------------


def test_messages_print_whole_numbers_as_integers_and_unknowns_in_words() -> None:
    def change(props: dict[str, Any]) -> None:
        props["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] = 1.0

    (message,) = violations("rolling-update-keeps-capacity", edit(good_stack(), "Deployment", change), PROD)
    assert "maxUnavailable 1 takes 1 pod(s) down during a rollout (spec.replicas is unset)" in message
    assert "None" not in message and "1.0" not in message


# ---- misses: moving tags, init containers -------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "tag"),
    [
        ("ghcr.io/acme/web:main", "main"),
        ("ghcr.io/ggml-org/llama.cpp:server-cuda", "server-cuda"),
        ("ghcr.io/acme/web:blue", "blue"),
        ("registry.local:5000/acme/web:stable", "stable"),
        ("nginx:1.27.2", None),
        ("postgres:16-alpine", None),
        ("ghcr.io/acme/web:v2", None),
        ("ghcr.io/acme/web:release-1.4", None),
        ("ghcr.io/acme/web:3f2a9c1", None),
        ("ghcr.io/acme/web:latest", None),
        ("nginx", None),
        ("ghcr.io/acme/web:main@sha256:" + "ab" * 32, None),
        ("registry.local:5000/acme/web", None),
    ],
)
def test_branch_and_channel_tags_are_moving_tags(image: str, tag: str | None) -> None:
    assert moving_tag(image) == tag


def test_a_moving_tag_is_advice_in_dev_and_for_outside_programs() -> None:
    stack = edit(good_stack(), "Deployment", lambda p: container(p).update(image="ghcr.io/acme/web:main"))
    assert violations("image-tag-fixed", stack, DEV) == [
        "Deployment shop/web-1a2b3c4d container web image 'ghcr.io/acme/web:main' uses the tag 'main', which "
        "names a branch or channel that moves: use a release tag (1.4.2) or a digest"
    ]
    assert violations("image-pinned", stack, DEV) == []
    assert {
        DEV["image-tag-fixed"]["enforcementLevel"],
        OUTSIDE_CONFIG["image-tag-fixed"]["enforcementLevel"],
    } == {"advisory"}


def test_init_containers_are_checked_for_resources_like_containers() -> None:
    init = {"name": "migrate", "image": "ghcr.io/acme/migrate:1.0.0"}
    stack = edit(good_stack(), "Deployment", lambda p: _pod(p).update(initContainers=[init]))
    assert violations("resources-specified", stack, PROD) == [
        "Deployment shop/web-1a2b3c4d init container migrate has no resources.requests.cpu, "
        "resources.requests.memory, resources.limits.memory: set them (e.g. requests cpu 100m, memory 128Mi; "
        "limits memory 256Mi)"
    ]
    bounded = {**init, "resources": pod_spec()["containers"][0]["resources"]}
    assert (
        violations(
            "resources-specified",
            edit(good_stack(), "Deployment", lambda p: _pod(p).update(initContainers=[bounded])),
            PROD,
        )
        == []
    )


# ---- the outside profile -------------------------------------------------------------------------


def test_the_outside_profile_keeps_mandatory_what_breaks_availability_or_security() -> None:
    config = pack_config(OUTSIDE)
    assert config == OUTSIDE_CONFIG  # the committed file is the profile's output
    mandatory = {rule for rule, entry in config.items() if entry["enforcementLevel"] == "mandatory"}
    baseline = {rule.id for rule in RULES if rule.tier == "baseline"}
    assert mandatory == baseline | OUTSIDE_PROFILE.kept_mandatory
    assert {"probes-present", "egress-not-open", "ingress-tls-coverage"} <= mandatory
    strictness = {
        "spread-or-anti-affinity",
        "rolling-update-keeps-capacity",
        "liveness-not-readiness",
        "read-only-root-filesystem",
        "network-policy-coverage",
        "no-service-account-token",
        "service-type-allowed",
    }
    assert {config[rule]["enforcementLevel"] for rule in strictness} == {"advisory"}
    assert config["image-pinned"]["requireDigest"] is False
    assert config["pss-restricted"]["minRunAsUser"] == 0
    assert config["probes-present"]["requireStartupProbe"] is False
    assert config["pdb-policy-allows-disruption"]["requireAlwaysAllow"] is False
    assert PROFILES[OUTSIDE] is OUTSIDE_PROFILE


def test_the_noise_of_public_programs_is_not_mandatory_outside_but_is_under_prod() -> None:
    """A fixed version tag, UID 1000 with runAsNonRoot, no startup probe, identical gRPC probes and a
    budget without unhealthyPodEvictionPolicy: findings under prod, none mandatory outside."""

    def public_style(props: dict[str, Any]) -> None:
        pod = _pod(props)
        pod["securityContext"]["runAsUser"] = 1000
        web = pod["containers"][0]
        web["image"] = "ghcr.io/acme/web:1.4.2"
        web.pop("startupProbe")
        web["readinessProbe"] = web["livenessProbe"] = {"grpc": {"port": 8080}}

    stack = edit(good_stack(), "Deployment", public_style)
    stack = edit(stack, "PodDisruptionBudget", lambda p: p["spec"].pop("unhealthyPodEvictionPolicy"))
    rules = (
        "image-pinned",
        "pss-restricted",
        "probes-present",
        "liveness-not-readiness",
        "pdb-policy-allows-disruption",
    )
    for rule in rules:
        assert violations(rule, stack, PROD), rule
        level = OUTSIDE_CONFIG[rule]["enforcementLevel"]
        assert level == "advisory" or violations(rule, stack, OUTSIDE_CONFIG) == [], rule
    assert violations(
        "pss-restricted",
        edit(stack, "Deployment", lambda p: _pod(p)["securityContext"].update(runAsUser=0)),
        OUTSIDE_CONFIG,
    )


def test_a_profile_may_keep_mandatory_only_hardening_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    monkeypatch.setitem(
        PROFILES, OUTSIDE, replace(OUTSIDE_PROFILE, kept_mandatory=frozenset({"min-replicas"}))
    )
    with pytest.raises(
        ValueError, match=r"keeps mandatory rules that are not hardening rules: \['min-replicas'\]"
    ):
        pack_config(OUTSIDE)
    assert RULES_BY_ID["min-replicas"].tier == "baseline"
