"""Kubernetes arithmetic as the controllers do it (hastack.kube, which config checks, the pack and the
stack invariants all use): int-or-percent scaled as asked, and the evictions a budget allows with
percentages rounded up and never more than all the pods."""

from __future__ import annotations

from typing import Any

import pytest

from hastack.kube import disruptions_allowed, scaled


@pytest.mark.parametrize(
    ("spec", "pods", "allowed"),
    [
        ({"maxUnavailable": 1}, 3, 1),
        ({"maxUnavailable": "10%"}, 3, 1),  # 0.3 rounds up to 1
        ({"maxUnavailable": "0%"}, 3, 0),
        ({"maxUnavailable": 5}, 3, 3),  # never more than every pod
        ({"maxUnavailable": 1.0}, 3, 1),  # a whole number off the wire
        ({"minAvailable": "50%"}, 3, 1),  # 1.5 rounds up to 2 needed
        ({"minAvailable": "90%"}, 3, 0),  # 2.7 rounds up to 3 needed
        ({"minAvailable": "66%"}, 3, 1),  # 1.98 rounds up to 2
        ({"minAvailable": 2}, 3, 1),
        ({"minAvailable": 3}, 3, 0),
        ({"minAvailable": 4}, 3, 0),  # never fewer than none
        ({}, 3, None),
        ({"maxUnavailable": "half"}, 3, None),
    ],
)
def test_pdb_percentages_round_like_the_disruption_controller(
    spec: dict[str, Any], pods: int, allowed: int | None
) -> None:
    assert disruptions_allowed(spec.get("maxUnavailable"), spec.get("minAvailable"), pods) == allowed


def test_int_or_percent_is_scaled_as_asked() -> None:
    assert scaled("25%", 3, round_up=False) == 0
    assert scaled("25%", 3, round_up=True) == 1
    assert scaled(2.0, 10, round_up=True) == 2
    assert scaled("x%", 3, round_up=True) is None
    assert scaled(True, 3, round_up=True) is None
