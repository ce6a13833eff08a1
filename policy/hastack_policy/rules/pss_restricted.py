"""`pss-restricted`: Pods meet the Pod Security Standards 'restricted' profile and run as a high non-root
UID."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hastack.wire import show
from hastack_policy.objects import WORKLOADS, K8sObject, container_name, containers, pod_template
from hastack_policy.rule import Rule
from hastack_policy.values import as_dict, as_int, as_list, dig, known

SECCOMP_OK = frozenset({"RuntimeDefault", "Localhost"})


def _all_containers(spec: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Containers, init containers and ephemeral containers: PSS judges them all."""
    yield from containers(spec, init=True)
    for container in as_list(spec.get("ephemeralContainers")):
        if isinstance(container, dict):
            yield container


def pss_restricted(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """The controls of the Pod Security Standards 'restricted' profile, plus a high UID."""
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


RULE = Rule(
    id="pss-restricted",
    description="Pods meet the Pod Security Standards 'restricted' profile and run as a high non-root UID.",
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
    resource_check=pss_restricted,
    kinds=WORKLOADS,
    profile_settings=lambda profile: {"minRunAsUser": profile.min_run_as_user},
)
