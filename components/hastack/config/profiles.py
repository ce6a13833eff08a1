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


ENVIRONMENTS: dict[str, EnvironmentRules] = {
    "dev": EnvironmentRules(2, None, False, ("self-signed", "cert-manager", "secret"), 1),
    "staging": EnvironmentRules(2, "ScheduleAnyway", False, ("cert-manager", "secret"), 1),
    "prod": EnvironmentRules(3, "DoNotSchedule", True, ("cert-manager", "secret"), 2),
}
