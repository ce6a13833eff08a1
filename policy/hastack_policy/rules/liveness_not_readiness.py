"""`liveness-not-readiness`: A container's liveness probe is not identical to its readiness probe."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hastack_policy.objects import LONG_RUNNING, K8sObject, container_name, containers, pod_template
from hastack_policy.rule import Rule
from hastack_policy.values import contains_unknown


def liveness_not_readiness(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """An identical liveness probe restarts pods that are merely busy, turning overload into outage."""
    _, spec = pod_template(obj)
    for container in containers(spec, init=False):
        liveness = container.get("livenessProbe")
        readiness = container.get("readinessProbe")
        if (
            liveness
            and readiness
            and not contains_unknown(liveness)
            and not contains_unknown(readiness)
            and liveness == readiness
        ):
            yield (
                f"{obj.display()} container {container_name(container)} livenessProbe is identical to its "
                "readinessProbe: point liveness at a cheaper endpoint (e.g. /livez) or relax its thresholds"
            )


RULE = Rule(
    id="liveness-not-readiness",
    tier="hardening",
    description="A container's liveness probe is not identical to its readiness probe.",
    severity="medium",
    remediation=(
        "Point livenessProbe at a cheap liveness endpoint (e.g. /livez) or give it looser thresholds."
    ),
    category="ha",
    default_enforcement="advisory",
    resource_check=liveness_not_readiness,
    kinds=LONG_RUNNING,
)
