"""`probe-ports-exist`: Probe ports given by name name a port the container declares."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hastack_policy.objects import LONG_RUNNING, K8sObject, container_name, containers, pod_template
from hastack_policy.rule import Rule
from hastack_policy.values import as_dict, as_list, dig, known

PROBE_KINDS = ("readinessProbe", "livenessProbe", "startupProbe")


def probe_ports_exist(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """A named probe port that the container does not declare makes the probe always fail."""
    _, spec = pod_template(obj)
    for container in containers(spec, init=False):
        names = {known(p.get("name")) for p in as_list(container.get("ports")) if isinstance(p, dict)}
        for probe_kind in PROBE_KINDS:
            probe = as_dict(container.get(probe_kind))
            for handler in ("httpGet", "tcpSocket"):
                port = dig(probe, handler, "port")
                if isinstance(port, str) and port not in names:
                    declared = ", ".join(sorted(str(n) for n in names if n)) or "none"
                    yield (
                        f"{obj.display()} container {container_name(container)} {probe_kind}.{handler}.port "
                        f"'{port}' names no container port (declared: {declared}): use a declared "
                        "port name or number"
                    )


RULE = Rule(
    id="probe-ports-exist",
    description="Probe ports given by name name a port the container declares.",
    severity="high",
    remediation="Use a port name from the container's ports list, or a port number.",
    category="ha",
    default_enforcement="mandatory",
    resource_check=probe_ports_exist,
    kinds=LONG_RUNNING,
)
