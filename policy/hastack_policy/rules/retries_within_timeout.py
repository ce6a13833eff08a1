"""`retries-within-timeout`: Gateway retries fit inside the request timeout, so the last retry can still
answer."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from hastack_policy.objects import K8sObject, kinds
from hastack_policy.rule import Rule
from hastack_policy.values import as_dict, as_int, dig

_DURATION = re.compile(r"(\d+)(ms|h|m|s)")

_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def duration_seconds(text: Any) -> float | None:
    """Envoy Gateway's durations (`1m30s`, `500ms`) in seconds; None when not one."""
    if not isinstance(text, str) or not re.fullmatch(r"(\d+(ms|h|m|s))+", text):
        return None
    return sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION.findall(text))


def retries_within_timeout(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """Retries that cannot finish inside the request timeout are cut short: the client sees the
    timeout instead of the healthy backend the last retry would have reached."""
    retry = as_dict(obj.spec.get("retry"))
    per_try = duration_seconds(dig(retry, "perRetry", "timeout"))
    request = duration_seconds(dig(obj.spec, "timeout", "http", "requestTimeout"))
    if not retry or per_try is None or request is None:
        return
    retries = as_int(retry.get("numRetries"))
    tries = (2 if retries is None else retries) + 1  # Envoy Gateway's default numRetries is 2
    if per_try * tries > request:
        yield (
            f"{obj.display()} spec.retry allows {tries} tries of {per_try:g}s ({per_try * tries:g}s) but "
            f"spec.timeout.http.requestTimeout is {request:g}s: raise the request timeout or lower "
            "perRetry.timeout or numRetries"
        )


RULE = Rule(
    id="retries-within-timeout",
    description="Gateway retries fit inside the request timeout, so the last retry can still answer.",
    severity="medium",
    remediation=(
        "Make spec.timeout.http.requestTimeout at least perRetry.timeout x (numRetries + 1), or lower "
        "them (hastack: apps[].ingress.retries and timeouts)."
    ),
    category="ha",
    default_enforcement="mandatory",
    tier="hardening",
    resource_check=retries_within_timeout,
    kinds=kinds("BackendTrafficPolicy"),
)
