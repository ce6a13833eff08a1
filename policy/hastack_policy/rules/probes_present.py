"""`probes-present`: Every long-running container has readiness and liveness probes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hastack_policy.objects import LONG_RUNNING, K8sObject, container_name, containers, pod_template
from hastack_policy.rule import Rule
from hastack_policy.values import known


def probes_present(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """Without readiness the Service routes to unready pods; without liveness hung pods stay."""
    _, spec = pod_template(obj)
    wanted = ["readinessProbe", "livenessProbe"]
    if cfg.get("requireStartupProbe"):
        wanted.append("startupProbe")
    for container in containers(spec, init=False):
        missing = [probe for probe in wanted if not known(container.get(probe))]
        if missing:
            yield (
                f"{obj.display()} container {container_name(container)} has no {', '.join(missing)}: "
                f"add {' and '.join(missing)}"
            )


RULE = Rule(
    id="probes-present",
    tier="hardening",
    description="Every long-running container has readiness and liveness probes.",
    severity="high",
    remediation=(
        "Add readinessProbe and livenessProbe (and startupProbe for slow starters) to each container."
    ),
    category="ha",
    default_enforcement="mandatory",
    config={
        "requireStartupProbe": {
            "type": "boolean",
            "default": False,
            "description": "also require a startupProbe",
        }
    },
    resource_check=probes_present,
    kinds=LONG_RUNNING,
    profile_settings=lambda profile: {"requireStartupProbe": profile.require_startup_probe},
)
