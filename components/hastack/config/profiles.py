"""The environment profiles: the one table of HA and security floors per environment.

Config validation, the components' defaults and the policy pack's per-environment config
(`policy/config/<env>.json`, generated from this table by `make docs`) all derive from it, so they
cannot disagree. A new environment rule is one field here, read where it applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ZONE_KEY = "topology.kubernetes.io/zone"
HOSTNAME_KEY = "kubernetes.io/hostname"
"""The well-known node labels pods are spread over."""

WhenUnsatisfiable = Literal["DoNotSchedule", "ScheduleAnyway"]
Enforcement = Literal["advisory", "mandatory"]


@dataclass(frozen=True, kw_only=True)
class EnvironmentProfile:
    """The HA and security floor an environment imposes (config may only be stricter), and its defaults."""

    min_replicas: int
    """Fewest replicas (or HPA minReplicas) an app may run with."""
    zone_spread: WhenUnsatisfiable | None
    """Spread over zones: hard, soft or not at all (hostname spread is always soft)."""
    zone_min_domains: int | None = None
    """`minDomains` of the hard zone spread: fewer zones than this keep the extra pods Pending
    instead of packing them into the zones there are. Kubernetes allows it only with DoNotSchedule."""
    require_digest: bool
    """Images pinned by digest (name@sha256:...), not only by tag."""
    tls_modes: tuple[str, ...]
    """Where an Ingress certificate may come from."""
    min_available_during_disruption: int
    """Pods a disruption budget must keep at the replica floor."""
    min_run_as_user: int = 10000
    """Lowest UID a container may run as (the pack's pss-restricted.minRunAsUser)."""
    require_startup_probe: bool
    hardening: Enforcement
    """Enforcement of the hardening rules of the pack (its correctness rules are mandatory everywhere)."""
    ephemeral_storage_request: str = "128Mi"
    ephemeral_storage_limit: str = "1Gi"
    """Default scratch-disk request and limit (logs, /tmp): the kubelet evicts a pod above its limit."""
    priority_class_name: str | None = None
    """Default `priorityClassName` of the pods; the PriorityClass must exist in the cluster."""
    open_egress_needs_reason: bool = False
    """An egress allowance to every address or every namespace must say why (`egress[].reason`)."""
    secrets_as_files: bool = False
    """Secrets reach the pod as files unless the app sets `secretsAs: env` (checkov CKV_K8S_35)."""
    single_writer: Literal["allow", "annotated", "forbid"] = "annotated"
    """Single-writer apps on a ReadWriteOnce volume (Recreate, 1 replica): allowed as they are,
    allowed with the annotation hastack.dev/single-writer saying why, or refused."""
    require_always_allow: bool = True
    """Disruption budgets set `unhealthyPodEvictionPolicy: AlwaysAllow`, so crash-looping pods never
    block a drain (hastack's budgets always do; the pack demands it of other programs per profile)."""
    kept_mandatory: frozenset[str] = frozenset()
    """Hardening rules that stay mandatory where `hardening` is advisory: the ones whose finding means
    the app breaks (availability) or is exposed (security) whatever the house style."""

    def __post_init__(self) -> None:
        if self.zone_min_domains is not None and self.zone_spread != "DoNotSchedule":
            raise ValueError(
                "zone_min_domains needs zone_spread DoNotSchedule (Kubernetes refuses it otherwise)"
            )


ENVIRONMENTS: dict[str, EnvironmentProfile] = {
    "dev": EnvironmentProfile(
        min_replicas=2,
        zone_spread=None,
        require_digest=False,
        tls_modes=("self-signed", "cert-manager", "secret"),
        min_available_during_disruption=1,
        require_startup_probe=False,
        hardening="advisory",
        single_writer="allow",
        require_always_allow=False,
    ),
    "staging": EnvironmentProfile(
        min_replicas=2,
        zone_spread="ScheduleAnyway",
        require_digest=True,  # staging tries the very artifact that is promoted to prod
        tls_modes=("cert-manager", "secret"),
        min_available_during_disruption=1,
        require_startup_probe=True,
        hardening="mandatory",
    ),
    "prod": EnvironmentProfile(
        min_replicas=3,
        zone_spread="DoNotSchedule",
        zone_min_domains=3,
        require_digest=True,
        tls_modes=("cert-manager", "secret"),
        min_available_during_disruption=2,
        require_startup_probe=True,
        hardening="mandatory",
        open_egress_needs_reason=True,
        secrets_as_files=True,
    ),
}

OUTSIDE = "outside"
"""The profile of programs that are not hastack's own (no environment declared)."""

OUTSIDE_PROFILE = EnvironmentProfile(
    min_replicas=2,
    zone_spread=None,
    require_digest=False,
    tls_modes=("self-signed", "cert-manager", "secret"),
    min_available_during_disruption=1,
    min_run_as_user=0,
    require_startup_probe=False,
    hardening="advisory",
    single_writer="allow",
    require_always_allow=False,
    kept_mandatory=frozenset(
        {
            "probes-present",
            "hpa-replica-bounds",
            "egress-not-open",
            "ingress-tls-coverage",
            "ingressroute-tls",
            "httproute-tls-listener",
        }
    ),
)
"""Mandatory only for what breaks availability (one replica, a budget that blocks drains, no probes, a
Service that reaches no pod) or security (root, host access, an unpinned `latest` image, open egress,
plain-HTTP hosts); house strictness (digests, UIDs >= 10000, startup probes, zone spread, default-deny,
read-only roots, maxUnavailable 0) is advisory. Never a value of `hastack:environment`."""

PROFILES: dict[str, EnvironmentProfile] = {**ENVIRONMENTS, OUTSIDE: OUTSIDE_PROFILE}
"""Every profile the pack has a config for: hastack's environments, then the outside profile."""
