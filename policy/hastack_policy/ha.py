"""Single-resource high-availability rules: replicas floors, probes, rollout budget, spread, PDB shape."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hastack.config.types import QUANTITY_FORMS, quantity_problem, quantity_text
from hastack.kube import scaled
from hastack.wire import show

from .base import K8sObject, Rule, as_dict, as_int, as_list, contains_unknown, dig, known
from .k8s import (
    REPLICATED_KINDS,
    WORKLOAD_KINDS,
    container_name,
    containers,
    declared_single_writer,
    is_kind,
    is_workload,
    pod_template,
    selector_matches,
    single_writer_shape,
)

LONG_RUNNING_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Pod"})


def _long_running(obj: K8sObject) -> bool:
    return is_workload(obj) and obj.kind in LONG_RUNNING_KINDS


# ---- hpa-replica-bounds ------------------------------------------------------------------------


def check_hpa_replica_bounds(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """An HPA's floor is the workload's real replica floor; max must leave room to scale out."""
    if not is_kind(obj, "HorizontalPodAutoscaler", "autoscaling"):
        return
    floor = as_int(obj.spec.get("minReplicas"))
    min_needed = int(cfg["minReplicas"])
    shown = "unset (defaults to 1)" if floor is None else str(floor)
    floor = 1 if floor is None else floor
    if floor < min_needed:
        yield (
            f"{obj.display()} spec.minReplicas is {shown}; at least {min_needed} needed: "
            f"set spec.minReplicas: {min_needed}"
        )
    ceiling = as_int(obj.spec.get("maxReplicas"))
    if ceiling is not None and ceiling <= floor:
        yield (
            f"{obj.display()} spec.maxReplicas is {ceiling}, not above minReplicas {floor}: it can never "
            f"scale out; set spec.maxReplicas above {floor}"
        )


# ---- probes ------------------------------------------------------------------------------------


def check_probes_present(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """Without readiness the Service routes to unready pods; without liveness hung pods stay."""
    if not _long_running(obj):
        return
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


def check_liveness_not_readiness(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """An identical liveness probe restarts pods that are merely busy, turning overload into outage."""
    if not _long_running(obj):
        return
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


PROBE_KINDS = ("readinessProbe", "livenessProbe", "startupProbe")


def check_probe_ports_exist(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """A named probe port that the container does not declare makes the probe always fail."""
    if not _long_running(obj):
        return
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


# ---- rollout -----------------------------------------------------------------------------------


def check_rolling_update(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """A rollout must never take serving capacity below the replica count.

    A single writer (one pod writing to a claim, or declared so) is judged by rwo-volume-rollout:
    RollingUpdate would hang its rollout on a ReadWriteOnce volume.
    """
    if not is_kind(obj, "Deployment", "apps") or single_writer_shape(obj) or declared_single_writer(obj):
        return
    strategy = as_dict(obj.spec.get("strategy"))
    kind = known(strategy.get("type")) or "RollingUpdate"
    limit = int(cfg["maxUnavailable"])
    if kind == "Recreate":
        yield (
            f"{obj.display()} spec.strategy.type is Recreate: every pod stops before new ones start; "
            f"use RollingUpdate with maxUnavailable: {limit}"
        )
        return
    rolling = as_dict(strategy.get("rollingUpdate"))
    max_unavailable = known(rolling.get("maxUnavailable", "25%"))
    max_surge = known(rolling.get("maxSurge", "25%"))
    count = as_int(obj.spec.get("replicas")) if "replicas" in obj.spec else None
    if isinstance(max_unavailable, str) and count is None:
        if max_unavailable.strip() not in ("0%", "0"):
            yield (
                f"{obj.display()} spec.strategy.rollingUpdate.maxUnavailable is {max_unavailable} "
                f"(the default when unset) with no fixed replica count, so it drops pods once scaled out; "
                f"set maxUnavailable: {limit} and a maxSurge such as 25%"
            )
        return
    unavailable = scaled(max_unavailable, count or 0, round_up=False)
    if unavailable is not None and unavailable > limit:
        pods = f"{unavailable} of {count} pods" if count is not None else f"{unavailable} pod(s)"
        unset = "" if count is not None else " (spec.replicas is unset)"
        yield (
            f"{obj.display()} spec.strategy.rollingUpdate.maxUnavailable {show(max_unavailable)} takes "
            f"{pods} down during a rollout{unset}; "
            f"at most {limit} allowed: set maxUnavailable: {limit}"
        )
    surge = scaled(max_surge, count or 0, round_up=True) if count is not None else None
    if unavailable == 0 and surge == 0:
        yield (
            f"{obj.display()} rollingUpdate has maxUnavailable 0 and maxSurge {show(max_surge)}: the rollout "
            "cannot progress; set maxSurge: 25% (or 1)"
        )


# ---- spread ------------------------------------------------------------------------------------


_ONE_PER_DOMAIN = 1_000_000
"""Stands for the minDomains of required anti-affinity: one pod per domain is stricter than any."""


def _spread_keys(
    spec: Mapping[str, Any], labels: Mapping[str, Any]
) -> tuple[set[str], set[str], dict[str, int]]:
    """(topology keys spread over, of which hard, the best minDomains of each hard key) from spread
    constraints and pod anti-affinity."""
    keys: set[str] = set()
    hard: set[str] = set()
    domains: dict[str, int] = {}
    for constraint in as_list(spec.get("topologySpreadConstraints")):
        if not isinstance(constraint, dict):
            continue
        if selector_matches(constraint.get("labelSelector"), labels) is False:
            continue  # spreads some other pods, not these
        key = known(constraint.get("topologyKey"))
        keys.add(key)
        if known(constraint.get("whenUnsatisfiable", "DoNotSchedule")) == "DoNotSchedule":
            hard.add(key)
            domains[key] = max(domains.get(key, 0), as_int(constraint.get("minDomains")) or 0)
    anti = as_dict(dig(spec, "affinity", "podAntiAffinity"))
    for term in as_list(anti.get("requiredDuringSchedulingIgnoredDuringExecution")):
        if isinstance(term, dict) and selector_matches(term.get("labelSelector"), labels) is not False:
            keys.add(known(term.get("topologyKey")))
            hard.add(known(term.get("topologyKey")))
            domains[known(term.get("topologyKey"))] = _ONE_PER_DOMAIN
    for weighted in as_list(anti.get("preferredDuringSchedulingIgnoredDuringExecution")):
        term = as_dict(dig(weighted, "podAffinityTerm"))
        if selector_matches(term.get("labelSelector"), labels) is not False:
            keys.add(known(term.get("topologyKey")))
    return keys, hard, domains


def check_spread(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """Replicas on one node or zone fail together: spread them over the failure domains (single
    writers run one pod: nothing to spread)."""
    if not (is_workload(obj) and obj.kind in REPLICATED_KINDS):
        return
    if declared_single_writer(obj) or single_writer_shape(obj):
        return
    count = as_int(obj.spec.get("replicas")) if "replicas" in obj.spec else None
    if count is not None and count < 2:
        return
    metadata, spec = pod_template(obj)
    keys, hard, domains = _spread_keys(spec, as_dict(metadata.get("labels")))
    required = [str(k) for k in cfg["requiredTopologyKeys"]]
    required_hard = [str(k) for k in cfg["hardTopologyKeys"]]
    missing = [k for k in required if k not in keys]
    soft_only = [k for k in required_hard if k in keys and k not in hard] + [
        k for k in required_hard if k not in keys and k not in required
    ]
    if missing:
        yield (
            f"{obj.display()} pods are not spread over {', '.join(missing)} (spread found: "
            f"{', '.join(sorted(keys)) or 'none'}): add spec.template.spec.topologySpreadConstraints "
            f"with topologyKey {missing[0]} and a labelSelector matching the pod labels"
        )
    if soft_only:
        yield (
            f"{obj.display()} spread over {', '.join(soft_only)} is not enforced: set "
            "whenUnsatisfiable: DoNotSchedule for it"
        )
    needed = int(cfg["minDomains"])
    for key in required_hard if needed > 0 else ():
        if key in hard and domains.get(key, 0) < needed:
            yield (
                f"{obj.display()} hard spread over {key} has minDomains {domains.get(key) or 'unset'}: with "
                f"fewer than {needed} domains the scheduler packs the pods into the ones there are; set "
                f"minDomains: {needed}"
            )
    for constraint in as_list(spec.get("topologySpreadConstraints")):
        when = known(dig(constraint, "whenUnsatisfiable", default="DoNotSchedule"))
        if (
            isinstance(constraint, dict)
            and constraint.get("minDomains") is not None
            and when != "DoNotSchedule"
        ):
            yield (
                f"{obj.display()} spread over {dig(constraint, 'topologyKey')} sets minDomains with "
                f"whenUnsatisfiable {when}, which the API server refuses: use DoNotSchedule or drop "
                "minDomains"
            )


# ---- bare pods ---------------------------------------------------------------------------------


def check_no_bare_pods(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """A bare Pod is never rescheduled when its node dies."""
    if is_kind(obj, "Pod", ""):
        yield f"{obj.display()} is a bare Pod that nothing recreates after a node failure: use a Deployment"


# ---- PDB shape ---------------------------------------------------------------------------------


def check_pdb_policy(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """A PDB that can never be satisfied blocks node drains and cluster upgrades forever."""
    if not is_kind(obj, "PodDisruptionBudget", "policy"):
        return
    spec = obj.spec
    has_min = spec.get("minAvailable") is not None
    has_max = spec.get("maxUnavailable") is not None
    if has_min and has_max:
        yield f"{obj.display()} sets both minAvailable and maxUnavailable: keep only maxUnavailable: 1"
    elif not has_min and not has_max:
        yield f"{obj.display()} sets neither minAvailable nor maxUnavailable: set maxUnavailable: 1"
    max_unavailable = known(spec.get("maxUnavailable"))
    if has_max and (
        as_int(max_unavailable) == 0 or (isinstance(max_unavailable, str) and max_unavailable.strip() == "0%")
    ):
        yield (
            f"{obj.display()} spec.maxUnavailable is {max_unavailable}: no pod may ever be "
            "evicted; set maxUnavailable: 1"
        )
    min_available = known(spec.get("minAvailable"))
    if isinstance(min_available, str) and min_available.strip() == "100%":
        yield f"{obj.display()} spec.minAvailable is 100%: no pod may ever be evicted; set maxUnavailable: 1"
    if cfg.get("requireAlwaysAllow"):
        policy = known(spec.get("unhealthyPodEvictionPolicy"))
        if policy != "AlwaysAllow":
            yield (
                f"{obj.display()} spec.unhealthyPodEvictionPolicy is {policy or 'unset (IfHealthyBudget)'}: "
                "crash-looping pods then block drains; set unhealthyPodEvictionPolicy: AlwaysAllow"
            )


# ---- resources ---------------------------------------------------------------------------------


def _missing_resources(
    obj: K8sObject, requests: Sequence[str], limits: Sequence[str]
) -> Iterator[tuple[str, list[str]]]:
    """Per container, init containers included (they are scheduled and run on the same node, and an
    unbounded one starves its neighbours just the same), the `resources.<side>.<name>` fields it leaves
    unset; init containers are named so."""
    if not is_workload(obj):
        return
    _, spec = pod_template(obj)
    regular = {id(c) for c in containers(spec, init=False)}
    for container in containers(spec, init=True):
        resources = as_dict(container.get("resources"))
        missing = [
            f"resources.{side}.{name}"
            for side, names in (("requests", requests), ("limits", limits))
            for name in names
            if as_dict(resources.get(side)).get(name) in (None, "")
        ]
        if missing:
            kind = "container" if id(container) in regular else "init container"
            yield f"{kind} {container_name(container)}", missing


def check_resources(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """Requests make scheduling and HPA utilization meaningful; limits contain a leaking pod."""
    for container, missing in _missing_resources(obj, cfg["requiredRequests"], cfg["requiredLimits"]):
        yield (
            f"{obj.display()} {container} has no {', '.join(missing)}: "
            "set them (e.g. requests cpu 100m, memory 128Mi; limits memory 256Mi)"
        )


def check_ephemeral_storage(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """Without an ephemeral-storage limit one pod's logs or scratch files fill the node's disk and the
    kubelet evicts its neighbours; without a request the scheduler cannot place by disk."""
    for container, missing in _missing_resources(obj, ["ephemeral-storage"], ["ephemeral-storage"]):
        yield (
            f"{obj.display()} {container} has no {', '.join(missing)}: "
            "set them (e.g. requests 128Mi, limits 1Gi) so disk pressure evicts the pod that caused it"
        )


def check_resource_units(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """`memory: 512m` is half a byte and `cpu: 1Gi` a billion cores: typos the API server accepts."""
    if not is_workload(obj):
        return
    _, spec = pod_template(obj)
    for container in containers(spec, init=True):
        resources = as_dict(container.get("resources"))
        for section in ("requests", "limits"):
            for resource, value in as_dict(resources.get(section)).items():
                if resource not in QUANTITY_FORMS or known(value) is None:
                    continue
                problem = quantity_problem(resource, value)
                if problem is not None:
                    yield (
                        f"{obj.display()} container {container_name(container)} "
                        f"resources.{section}.{resource} is {quantity_text(value)}: {problem}"
                    )


def check_priority_class(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """Pods without a priority class have priority 0 (or the global default) and are preempted first."""
    if not (is_workload(obj) and obj.kind in REPLICATED_KINDS):
        return
    _, spec = pod_template(obj)
    name = known(spec.get("priorityClassName"))
    if not name:
        yield (
            f"{obj.display()} pod spec sets no priorityClassName, so under resource pressure its pods are "
            "among the first preempted: set priorityClassName to a PriorityClass for serving workloads"
        )
    elif str(name).startswith("system-") and obj.namespace != "kube-system":
        yield (
            f"{obj.display()} pod spec priorityClassName is {name}, reserved for kube-system: "
            "name a PriorityClass of your own"
        )


_MIN_REPLICAS_SCHEMA = {
    "type": "integer",
    "minimum": 1,
    "default": 2,
    "description": "lowest replica floor allowed",
}

RULES: tuple[Rule, ...] = (
    Rule(
        id="hpa-replica-bounds",
        tier="hardening",
        description=(
            "HorizontalPodAutoscalers keep at least the environment's replica floor and can scale out."
        ),
        severity="high",
        remediation="Set spec.minReplicas to at least the environment floor and spec.maxReplicas above it.",
        category="ha",
        default_enforcement="mandatory",
        config={"minReplicas": _MIN_REPLICAS_SCHEMA},
        resource_check=check_hpa_replica_bounds,
        kinds=frozenset({"HorizontalPodAutoscaler"}),
    ),
    Rule(
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
        resource_check=check_probes_present,
        kinds=LONG_RUNNING_KINDS,
    ),
    Rule(
        id="liveness-not-readiness",
        tier="hardening",
        description="A container's liveness probe is not identical to its readiness probe.",
        severity="medium",
        remediation=(
            "Point livenessProbe at a cheap liveness endpoint (e.g. /livez) or give it looser thresholds."
        ),
        category="ha",
        default_enforcement="advisory",
        resource_check=check_liveness_not_readiness,
        kinds=LONG_RUNNING_KINDS,
    ),
    Rule(
        id="probe-ports-exist",
        description="Probe ports given by name name a port the container declares.",
        severity="high",
        remediation="Use a port name from the container's ports list, or a port number.",
        category="ha",
        default_enforcement="mandatory",
        resource_check=check_probe_ports_exist,
        kinds=LONG_RUNNING_KINDS,
    ),
    Rule(
        id="rolling-update-keeps-capacity",
        tier="hardening",
        description=(
            "Deployments roll out with RollingUpdate and a maxUnavailable that keeps serving capacity."
        ),
        severity="high",
        remediation="Set spec.strategy to RollingUpdate with maxUnavailable: 0 and maxSurge: 25%.",
        category="ha",
        default_enforcement="mandatory",
        config={
            "maxUnavailable": {
                "type": "integer",
                "minimum": 0,
                "default": 0,
                "description": "pods a rollout may take down",
            }
        },
        resource_check=check_rolling_update,
        kinds=frozenset({"Deployment"}),
    ),
    Rule(
        id="spread-or-anti-affinity",
        tier="hardening",
        description="Multi-replica workloads spread their pods over nodes (and zones where required).",
        severity="medium",
        remediation=(
            "Add topologySpreadConstraints (or podAntiAffinity) whose labelSelector matches the pod labels, "
            "for each required topology key; use whenUnsatisfiable: DoNotSchedule for hard keys."
        ),
        category="ha",
        default_enforcement="advisory",
        config={
            "requiredTopologyKeys": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["kubernetes.io/hostname"],
                "description": "topology keys the pods must be spread over",
            },
            "hardTopologyKeys": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "topology keys whose spread must be DoNotSchedule / required anti-affinity",
            },
            "minDomains": {
                "type": "integer",
                "minimum": 0,
                "default": 0,
                "description": "minDomains each hard topology key's spread must set (0: not checked)",
            },
        },
        resource_check=check_spread,
        kinds=REPLICATED_KINDS,
    ),
    Rule(
        id="no-bare-pods",
        description="Pods are created by a controller (Deployment, StatefulSet, Job), never bare.",
        severity="high",
        remediation="Wrap the pod spec in a Deployment (or a Job for run-to-completion work).",
        category="ha",
        default_enforcement="mandatory",
        resource_check=check_no_bare_pods,
        kinds=frozenset({"Pod"}),
    ),
    Rule(
        id="pdb-policy-allows-disruption",
        description="A PodDisruptionBudget sets one policy that can allow an eviction.",
        severity="high",
        remediation=(
            "Use maxUnavailable: 1 (not 0, not minAvailable 100%) and "
            "unhealthyPodEvictionPolicy: AlwaysAllow."
        ),
        category="ha",
        default_enforcement="mandatory",
        config={
            "requireAlwaysAllow": {
                "type": "boolean",
                "default": True,
                "description": "require unhealthyPodEvictionPolicy: AlwaysAllow",
            }
        },
        resource_check=check_pdb_policy,
        kinds=frozenset({"PodDisruptionBudget"}),
    ),
    Rule(
        id="resources-specified",
        tier="hardening",
        description="Every container sets resource requests and limits.",
        severity="medium",
        remediation="Set resources.requests (cpu, memory) and resources.limits.memory on every container.",
        category="ha",
        default_enforcement="advisory",
        config={
            "requiredRequests": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["cpu", "memory"],
                "description": "resources every container must request",
            },
            "requiredLimits": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["memory"],
                "description": "resources every container must limit",
            },
        },
        resource_check=check_resources,
        kinds=frozenset(WORKLOAD_KINDS),
    ),
    Rule(
        id="resource-units",
        description="Resource quantities use the units of their resource (cores, millicores, whole bytes).",
        severity="high",
        remediation=(
            "Write cpu as cores or millicores (0.5, 250m) and memory and ephemeral-storage in bytes with "
            "a decimal or binary suffix (512Mi, 1Gi, 500M), never milli-bytes (512m)."
        ),
        category="ha",
        default_enforcement="mandatory",
        resource_check=check_resource_units,
        kinds=frozenset(WORKLOAD_KINDS),
    ),
    Rule(
        id="ephemeral-storage-bounded",
        description="Every container requests and limits ephemeral storage.",
        severity="low",
        remediation=(
            "Set resources.requests.ephemeral-storage and resources.limits.ephemeral-storage on every "
            "container (hastack: apps[].resources.requests/limits.ephemeralStorage; the profile "
            "sets 128Mi/1Gi)."
        ),
        category="ha",
        default_enforcement="advisory",
        tier="advice",
        resource_check=check_ephemeral_storage,
        kinds=frozenset(WORKLOAD_KINDS),
    ),
    Rule(
        id="priority-class-set",
        description="Replicated serving workloads name a PriorityClass, so they are not preempted first.",
        severity="low",
        remediation=(
            "Create a PriorityClass for serving workloads and set spec.template.spec.priorityClassName "
            "(hastack: apps[].priorityClassName)."
        ),
        category="ha",
        default_enforcement="advisory",
        tier="advice",
        resource_check=check_priority_class,
        kinds=REPLICATED_KINDS,
    ),
)
