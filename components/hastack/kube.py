"""Kubernetes arithmetic, written once for the config checks, the policy pack and the tests'
invariants: an int-or-percent as the controllers scale it, and the evictions a disruption budget
allows.
"""

from __future__ import annotations

import math
from typing import Any


def scaled(value: Any, total: int, *, round_up: bool) -> int | None:
    """intstr.GetScaledValueFromIntOrPercent: a whole number as it is, `"N%"` of `total` rounded as
    asked; None for anything else (not a number, a malformed percentage)."""
    if isinstance(value, str):
        if not value.endswith("%"):
            return None
        try:
            percent = int(value[:-1])
        except ValueError:
            return None
        exact = percent * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def disruptions_allowed(max_unavailable: Any, min_available: Any, pods: int) -> int | None:
    """The evictions a PodDisruptionBudget allows with `pods` healthy pods, as the disruption
    controller computes `status.disruptionsAllowed`: percentages round up, and never more than all
    the pods nor fewer than none. None when the budget sets neither value (or one is malformed)."""
    if max_unavailable is not None:
        value = scaled(max_unavailable, pods, round_up=True)
        return None if value is None else max(0, min(value, pods))
    if min_available is not None:
        value = scaled(min_available, pods, round_up=True)
        return None if value is None else max(0, pods - value)
    return None
