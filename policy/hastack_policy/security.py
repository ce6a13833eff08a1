"""Single-resource security rules: Pod Security Standards (restricted), images, host access,
exposure and namespaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hastack.resources.labels import OPEN_EGRESS_ANNOTATION
from hastack.wire import is_unknown, show

from .base import (
    CLUSTER_SCOPED_KINDS,
    K8sObject,
    Rule,
    UnknownValueError,
    as_dict,
    as_int,
    as_list,
    dig,
    known,
)
from .k8s import WORKLOAD_KINDS, container_name, containers, is_kind, is_workload, pod_template

SECCOMP_OK = frozenset({"RuntimeDefault", "Localhost"})


def _all_containers(spec: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Containers, init containers and ephemeral containers: PSS judges them all."""
    yield from containers(spec, init=True)
    for container in as_list(spec.get("ephemeralContainers")):
        if isinstance(container, dict):
            yield container


def check_pss_restricted(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """The controls of the Pod Security Standards 'restricted' profile, plus a high UID."""
    if not is_workload(obj):
        return
    _, spec = pod_template(obj)
    pod_sc = as_dict(spec.get("securityContext"))
    pod_non_root = known(pod_sc.get("runAsNonRoot"))
    pod_uid = as_int(pod_sc.get("runAsUser"))
    pod_seccomp = known(dig(pod_sc, "seccompProfile", "type"))
    min_uid = int(cfg["minRunAsUser"])
    where = obj.display()
    for container in _all_containers(spec):
        name = container_name(container)
        sc = as_dict(container.get("securityContext"))
        if known(sc.get("privileged")) is True:
            yield f"{where} container {name} is privileged: remove securityContext.privileged"
        if known(sc.get("allowPrivilegeEscalation")) is not False:
            yield (
                f"{where} container {name} securityContext.allowPrivilegeEscalation is "
                f"{show(sc.get('allowPrivilegeEscalation'))}: set it to false"
            )
        non_root = known(sc.get("runAsNonRoot"))
        if non_root is False or (non_root is None and pod_non_root is not True):
            yield (
                f"{where} container {name} may run as root (runAsNonRoot is "
                f"{show(non_root if non_root is not None else pod_non_root)}): "
                "set securityContext.runAsNonRoot: true on the pod"
            )
        uid = as_int(sc.get("runAsUser")) if sc.get("runAsUser") is not None else pod_uid
        if uid is None and min_uid > 0:
            yield (
                f"{where} container {name} sets no runAsUser: set securityContext.runAsUser to "
                f"a UID >= {min_uid}"
            )
        elif uid is not None and uid < max(min_uid, 1):
            yield (
                f"{where} container {name} runs as UID {uid}: set securityContext.runAsUser to "
                f"a UID >= {max(min_uid, 1)}"
            )
        seccomp = known(dig(sc, "seccompProfile", "type")) or pod_seccomp
        if seccomp not in SECCOMP_OK:
            yield (
                f"{where} container {name} seccompProfile is {show(seccomp)}: set "
                "securityContext.seccompProfile.type: RuntimeDefault on the pod"
            )
        caps = as_dict(sc.get("capabilities"))
        drop = [str(c) for c in as_list(caps.get("drop"))]
        if "ALL" not in drop:
            yield (
                f"{where} container {name} does not drop ALL capabilities (drop: {drop or 'none'}): "
                "set capabilities.drop: [ALL]"
            )
        added = [str(c) for c in as_list(caps.get("add")) if c != "NET_BIND_SERVICE"]
        if added:
            yield f"{where} container {name} adds capabilities {added}: only NET_BIND_SERVICE is allowed"


def check_read_only_root(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """A writable root filesystem lets an intruder persist tools; mount an emptyDir for /tmp."""
    if not is_workload(obj):
        return
    _, spec = pod_template(obj)
    for container in containers(spec, init=True):
        value = known(dig(container, "securityContext", "readOnlyRootFilesystem"))
        if value is not True:
            yield (
                f"{obj.display()} container {container_name(container)} "
                "securityContext.readOnlyRootFilesystem "
                f"is {show(value)}: set it to true and mount an emptyDir at /tmp"
            )


RBAC_GROUP = "rbac.authorization.k8s.io"
BINDING_KINDS = frozenset({"RoleBinding", "ClusterRoleBinding"})


def _service_account_facts(
    objs: Sequence[K8sObject],
) -> tuple[set[tuple[str, str]], set[tuple[str, str]], bool]:
    """(service accounts a RoleBinding or ClusterRoleBinding of the stack grants permissions to, those
    whose ServiceAccount object turns token automount off, whether some binding could not be read)."""
    bound: set[tuple[str, str]] = set()
    no_automount: set[tuple[str, str]] = set()
    undecided = False
    for obj in objs:
        try:
            if obj.kind == "ServiceAccount" and obj.group == "":
                if known(obj.props.get("automountServiceAccountToken")) is False:
                    no_automount.add((obj.namespace, obj.obj_name))
            elif obj.kind in BINDING_KINDS and obj.group == RBAC_GROUP:
                home = obj.namespace if obj.kind == "RoleBinding" else ""
                for entry in as_list(obj.props.get("subjects")):
                    subject = as_dict(entry)
                    if known(subject.get("kind")) == "ServiceAccount":
                        namespace = known(subject.get("namespace")) or home
                        bound.add((str(namespace), str(known(subject.get("name")))))
        except UnknownValueError:
            undecided = undecided or obj.kind in BINDING_KINDS
    return bound, no_automount, undecided


def check_no_token(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """A mounted service-account token is an API credential a compromised app should not hold, unless
    the app calls the API: a pod whose ServiceAccount a Role or ClusterRole binding of the stack grants
    permissions needs its token."""
    bound, no_automount, undecided = _service_account_facts(objs)
    for obj in objs:
        if not is_workload(obj):
            continue
        try:
            _, spec = pod_template(obj)
            value = known(spec.get("automountServiceAccountToken"))
            account = str(
                known(spec.get("serviceAccountName")) or known(spec.get("serviceAccount")) or "default"
            )
            key = (obj.namespace, account)
            if value is False or undecided or key in bound or (value is None and key in no_automount):
                continue
        except UnknownValueError:
            continue
        yield (
            obj.urn,
            f"{obj.display()} pod spec automountServiceAccountToken is {show(value)} (mounted by default) "
            f"and no RoleBinding or ClusterRoleBinding of the stack grants ServiceAccount {account} "
            "anything: set automountServiceAccountToken: false",
        )


def image_problem(image: str, require_digest: bool) -> str | None:
    """Why an image reference is not pinned enough, or None when it is fine."""
    if "@" in image:
        digest = image.split("@", 1)[1]
        return (
            None
            if digest.startswith("sha256:") and len(digest) == 71
            else f"has a malformed digest '{digest}'"
        )
    tag = image_tag(image)
    if tag is None:
        return "has no tag (pulls :latest)"
    if tag == "latest":
        return "uses the :latest tag"
    if require_digest:
        return "is not pinned by digest"
    return None


def check_image_pinned(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """A moving tag makes rollouts unrepeatable and rollbacks a guess."""
    if not is_workload(obj):
        return
    _, spec = pod_template(obj)
    require_digest = bool(cfg["requireDigest"])
    for container in containers(spec, init=True):
        image = container.get("image")
        if not isinstance(image, str) or is_unknown(image):
            continue
        problem = image_problem(image, require_digest)
        if problem:
            needed = "an image@sha256:<digest>" if require_digest else "a fixed version tag or a digest"
            yield (
                f"{obj.display()} container {container_name(container)} image '{image}' "
                f"{problem}: use {needed}"
            )


FIXED_TAG = re.compile(r"^v?\d|\d+\.\d+|^[0-9a-f]{7,64}$")
"""A tag that names a release: it starts with a version number (`1.25.3`, `v2`, `16-alpine`), holds a
dotted version (`release-1.2`), or is a commit hash. Anything else (`main`, `server-cuda`, `blue`,
`stable`, `edge`) names a branch or a channel, which the registry moves."""


def image_tag(image: str) -> str | None:
    """The tag of an image reference without a digest (None: no tag)."""
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def moving_tag(image: str) -> str | None:
    """The tag of `image` when it names a branch or a channel rather than a release (None: a fixed
    version, a digest, or no tag, which image-pinned judges)."""
    if "@" in image:
        return None
    tag = image_tag(image)
    if tag is None or tag == "latest" or FIXED_TAG.search(tag):
        return None
    return tag


def check_image_tag_fixed(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """A branch or channel tag (`:main`, `:server-cuda`, `:blue`) moves with every push: two nodes can
    run different code under one tag, and a rollback pulls the new image again."""
    if not is_workload(obj):
        return
    _, spec = pod_template(obj)
    for container in containers(spec, init=True):
        image = container.get("image")
        if not isinstance(image, str) or is_unknown(image):
            continue
        tag = moving_tag(image)
        if tag is not None:
            yield (
                f"{obj.display()} container {container_name(container)} image '{image}' uses the tag "
                f"'{tag}', which names a branch or channel that moves: use a release tag (1.4.2) or a digest"
            )


def check_no_host_access(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """Host namespaces, hostPath and hostPort break isolation and pin pods to nodes."""
    if not is_workload(obj):
        return
    _, spec = pod_template(obj)
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if known(spec.get(field)) is True:
            yield f"{obj.display()} pod spec sets {field}: true: remove it"
    for volume in as_list(spec.get("volumes")):
        if isinstance(volume, dict) and volume.get("hostPath") is not None:
            path = dig(volume, "hostPath", "path", default="?")
            yield (
                f"{obj.display()} volume {volume.get('name')} mounts hostPath {path}: use an "
                "emptyDir, ConfigMap or PVC"
            )
    for container in containers(spec, init=True):
        for port in as_list(container.get("ports")):
            host_port = as_int(port.get("hostPort")) if isinstance(port, dict) else None
            if host_port:
                yield (
                    f"{obj.display()} container {container_name(container)} binds hostPort {host_port}: "
                    "remove hostPort and expose it through a Service"
                )


def check_service_type(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """NodePort and LoadBalancer Services bypass the Ingress (TLS, rate limits). An ExternalName
    Service is a DNS alias for something outside the cluster (a managed database): it exposes no
    pod, so it is judged by allowExternalName alone."""
    if not is_kind(obj, "Service", ""):
        return
    service_type = known(obj.spec.get("type")) or "ClusterIP"
    allowed = [str(t) for t in cfg["allowedTypes"]]
    if service_type == "ExternalName":
        if not (cfg.get("allowExternalName") or service_type in allowed):
            yield (
                f"{obj.display()} is an ExternalName alias of {known(obj.spec.get('externalName'))}, "
                "which this environment does not allow (allowExternalName: false): call that host by its "
                "own DNS name, or set allowExternalName: true"
            )
        return
    if service_type not in allowed:
        yield (
            f"{obj.display()} spec.type is {service_type}; allowed: {', '.join(allowed)}: "
            "use type ClusterIP behind the Ingress"
        )


def check_not_default_namespace(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """Workloads in `default` (or system namespaces) share policies and quotas with everything else."""
    if "apiVersion" not in obj.props or obj.kind in CLUSTER_SCOPED_KINDS or obj.kind.endswith("List"):
        return
    namespace = obj.namespace
    forbidden = [str(n) for n in cfg["forbiddenNamespaces"]]
    if namespace in forbidden:
        source = (
            "metadata.namespace" if obj.metadata.get("namespace") else "no metadata.namespace, so it lands in"
        )
        yield (
            f"{obj.kind} {obj.obj_name} is in namespace {namespace} ({source} {namespace}): "
            "set metadata.namespace to the app's own namespace"
        )


def _open_destination(peer: Any) -> str | None:
    """What an egress peer opens to everything: a /0 block or a selector of every namespace."""
    if not isinstance(peer, dict):
        return None
    cidr = dig(peer, "ipBlock", "cidr")
    if isinstance(cidr, str) and cidr.endswith("/0"):
        return f"every address (ipBlock {cidr})"
    selector = known(peer.get("namespaceSelector"))
    if isinstance(selector, dict) and _selects_all(selector) and _selects_all(peer.get("podSelector")):
        return "every namespace (namespaceSelector {})"
    return None


def _selects_all(selector: Any) -> bool:
    """An absent or empty label selector: every namespace (or every pod of the selected ones). A peer
    `{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}` names the DNS pods of
    whatever namespace they run in, not every namespace."""
    selector = known(selector)
    if selector is None:
        return True
    return (
        isinstance(selector, dict)
        and not as_dict(selector.get("matchLabels"))
        and not as_list(selector.get("matchExpressions"))
    )


def check_egress_not_open(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """An app that may connect anywhere turns one compromised pod into a pivot to every network."""
    if not is_kind(obj, "NetworkPolicy", "networking.k8s.io"):
        return
    if str(known(as_dict(obj.metadata.get("annotations")).get(OPEN_EGRESS_ANNOTATION)) or "").strip():
        return
    for index, rule in enumerate(as_list(obj.spec.get("egress"))):
        if not isinstance(rule, dict):
            continue
        peers = as_list(rule.get("to"))
        opened = ["every destination (no `to`)"] if not peers else [_open_destination(p) for p in peers]
        for what in opened:
            if what is not None:
                yield (
                    f"{obj.display()} spec.egress[{index}] allows {what}: name the destination's block or "
                    f"namespace, or say why in the annotation {OPEN_EGRESS_ANNOTATION}"
                )


def check_namespace_pss(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """Pod Security Admission labels make the API server itself refuse non-compliant pods."""
    if not is_kind(obj, "Namespace", ""):
        return
    labels = as_dict(obj.metadata.get("labels"))
    level = str(cfg["level"])
    actual = known(labels.get("pod-security.kubernetes.io/enforce"))
    if actual != level:
        yield (
            f"Namespace {obj.obj_name} label pod-security.kubernetes.io/enforce is {show(actual)}: "
            f"set it to {level}"
        )


RULES: tuple[Rule, ...] = (
    Rule(
        id="pss-restricted",
        description=(
            "Pods meet the Pod Security Standards 'restricted' profile and run as a high non-root UID."
        ),
        severity="critical",
        remediation=(
            "Set pod securityContext runAsNonRoot: true, runAsUser >= 10000, seccompProfile RuntimeDefault; "
            "per container allowPrivilegeEscalation: false, capabilities.drop: [ALL], no privileged."
        ),
        category="security",
        default_enforcement="mandatory",
        config={
            "minRunAsUser": {
                "type": "integer",
                "minimum": 0,
                "default": 10000,
                "description": "lowest UID a container may run as (0 disables the high-UID check)",
            }
        },
        resource_check=check_pss_restricted,
        kinds=frozenset(WORKLOAD_KINDS),
    ),
    Rule(
        id="read-only-root-filesystem",
        tier="hardening",
        description="Containers run with a read-only root filesystem.",
        severity="medium",
        remediation="Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir at /tmp.",
        category="security",
        default_enforcement="advisory",
        resource_check=check_read_only_root,
        kinds=frozenset(WORKLOAD_KINDS),
    ),
    Rule(
        id="no-service-account-token",
        tier="hardening",
        description="Pods do not mount a service-account token.",
        severity="medium",
        remediation=(
            "Set automountServiceAccountToken: false in the pod spec (or on its ServiceAccount); a pod "
            "that calls the Kubernetes API keeps its token through the Role binding of its own "
            "ServiceAccount."
        ),
        category="security",
        default_enforcement="advisory",
        stack_check=check_no_token,
        kinds=frozenset(WORKLOAD_KINDS) | BINDING_KINDS | {"ServiceAccount"},
    ),
    Rule(
        id="image-pinned",
        description="Images carry a tag that is not latest, and a digest where required.",
        severity="high",
        remediation="Reference images as registry/name:version, or registry/name@sha256:<digest> in prod.",
        category="security",
        default_enforcement="mandatory",
        config={
            "requireDigest": {
                "type": "boolean",
                "default": False,
                "description": "require image@sha256:<digest>",
            }
        },
        resource_check=check_image_pinned,
        kinds=frozenset(WORKLOAD_KINDS),
    ),
    Rule(
        id="image-tag-fixed",
        description="Image tags name a release, not a branch or channel that moves (main, edge, blue).",
        severity="medium",
        remediation=(
            "Tag images with a release version (registry/name:1.4.2) or pin a digest; a branch or channel "
            "tag such as :main or :server-cuda is overwritten by the next push."
        ),
        category="security",
        default_enforcement="advisory",
        tier="advice",
        resource_check=check_image_tag_fixed,
        kinds=frozenset(WORKLOAD_KINDS),
    ),
    Rule(
        id="no-host-access",
        description="Pods use no host namespaces, hostPath volumes or hostPorts.",
        severity="critical",
        remediation=(
            "Remove hostNetwork/hostPID/hostIPC, hostPath volumes and hostPort; use a Service instead."
        ),
        category="security",
        default_enforcement="mandatory",
        resource_check=check_no_host_access,
        kinds=frozenset(WORKLOAD_KINDS),
    ),
    Rule(
        id="service-type-allowed",
        tier="hardening",
        description=(
            "Services are not NodePort or LoadBalancer unless allowed (ExternalName aliases expose no pod)."
        ),
        severity="high",
        remediation="Use type ClusterIP and expose through the Ingress; allow other types in policy config.",
        category="security",
        default_enforcement="mandatory",
        config={
            "allowedTypes": {
                "type": "array",
                "items": {
                    "type": "string",
                    "enum": ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"],
                },
                "default": ["ClusterIP"],
                "description": "Service types allowed",
            },
            "allowExternalName": {
                "type": "boolean",
                "default": True,
                "description": "allow ExternalName Services (DNS aliases of outside hosts, no pod exposed)",
            },
        },
        resource_check=check_service_type,
        kinds=frozenset({"Service"}),
    ),
    Rule(
        id="no-default-namespace",
        tier="hardening",
        description="Namespaced resources are not placed in the default (or a system) namespace.",
        severity="medium",
        remediation=(
            "Set metadata.namespace to the application's namespace (or give the provider a namespace)."
        ),
        category="security",
        default_enforcement="advisory",
        config={
            "forbiddenNamespaces": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["default", "kube-system", "kube-public"],
                "description": "namespaces resources may not be placed in",
            }
        },
        resource_check=check_not_default_namespace,
    ),
    Rule(
        id="egress-not-open",
        description=(
            "NetworkPolicies allow no egress to every address or every namespace unless it is acknowledged."
        ),
        severity="high",
        remediation=(
            "Allow egress to the destination's CIDR block or namespace (hastack: apps[].egress); where a "
            f"destination really is open, say why in the NetworkPolicy annotation {OPEN_EGRESS_ANNOTATION} "
            "(hastack: egress[].reason)."
        ),
        category="security",
        default_enforcement="mandatory",
        tier="hardening",
        resource_check=check_egress_not_open,
        kinds=frozenset({"NetworkPolicy"}),
    ),
    Rule(
        id="namespace-pod-security",
        tier="hardening",
        description="Namespaces enforce the restricted Pod Security Admission level.",
        severity="medium",
        remediation="Label the Namespace pod-security.kubernetes.io/enforce: restricted.",
        category="security",
        default_enforcement="advisory",
        config={
            "level": {
                "type": "string",
                "enum": ["privileged", "baseline", "restricted"],
                "default": "restricted",
                "description": "required enforce level",
            }
        },
        resource_check=check_namespace_pss,
        kinds=frozenset({"Namespace"}),
    ),
)
