"""The environment profiles: the one table of HA and security floors per environment.

Config validation, the components' defaults and the policy pack's per-environment config all
derive from this table, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class EnvironmentRules:
    """The HA and security floor an environment imposes; config may only be stricter."""

    min_replicas: int
    zone_spread: Literal["DoNotSchedule", "ScheduleAnyway"] | None
    require_digest: bool
    tls_modes: tuple[str, ...]
    min_available_during_disruption: int
    open_egress_needs_reason: bool = False
    """An egress allowance to every address or every namespace must say why (`egress[].reason`)."""
    secrets_as_files: bool = False
    """Secrets reach the pod as files unless the app sets `secretsAs: env` (checkov CKV_K8S_35)."""


ENVIRONMENTS: dict[str, EnvironmentRules] = {
    "dev": EnvironmentRules(2, None, False, ("self-signed", "cert-manager", "secret"), 1),
    "staging": EnvironmentRules(2, "ScheduleAnyway", False, ("cert-manager", "secret"), 1),
    "prod": EnvironmentRules(
        3,
        "DoNotSchedule",
        True,
        ("cert-manager", "secret"),
        2,
        open_egress_needs_reason=True,
        secrets_as_files=True,
    ),
}
