"""The pydantic models of the `hastack:` stack config: shape, types and documented defaults."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from hastack.config.profiles import ENVIRONMENTS, EnvironmentProfile
from hastack.config.types import (
    CanaryWeight,
    Cidr,
    ClassName,
    CpuQuantity,
    Dns1123Label,
    Dns1123Subdomain,
    DnsName,
    Environment,
    EnvName,
    Exposure,
    GatewayImplementation,
    Hostname,
    HttpPath,
    IntOrPercent,
    LabelKey,
    LabelValue,
    LoadBalancing,
    MemoryQuantity,
    NamespaceName,
    NetworkPort,
    NetworkProtocol,
    Percentage,
    Port,
    RetryCondition,
    SecretsAs,
    StorageQuantity,
    TlsMode,
)
from hastack.controllers import RateLimit, Resilience
from hastack.kube import disruptions_allowed


class Model(BaseModel):
    """Strict camelCase models: unknown keys are errors and nothing is coerced silently."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        frozen=True,
        strict=True,
    )


class TlsConfig(Model):
    """Where the Ingress certificate comes from."""

    mode: TlsMode
    issuer: str | None = None
    secret_name: str | None = None


class IngressConfig(Model):
    """Stack-wide ingress: the controller (by class) and the certificate source."""

    class_name: ClassName
    controller: str | None = None
    controller_namespace: NamespaceName | None = None
    tls: TlsConfig
    await_load_balancer: bool = True
    """False only where no controller publishes a load-balancer status (a local control plane):
    Pulumi would otherwise wait for it until its timeout."""


class ProbeConfig(Model):
    """An HTTP GET probe on the app's port."""

    path: HttpPath
    initial_delay_seconds: Annotated[int, Field(ge=0, le=600)] = 0
    period_seconds: Annotated[int, Field(ge=1, le=300)] = 10
    timeout_seconds: Annotated[int, Field(ge=1, le=60)] = 2
    failure_threshold: Annotated[int, Field(ge=1, le=120)] = 3


class ProbesConfig(Model):
    """Readiness removes a pod from the Service; liveness restarts it; startup guards slow starts."""

    readiness: ProbeConfig = ProbeConfig.model_validate({"path": "/readyz", "periodSeconds": 5})
    liveness: ProbeConfig = ProbeConfig.model_validate({"path": "/livez"})
    startup: ProbeConfig | None = None


class AutoscalingConfig(Model):
    """HorizontalPodAutoscaler bounds and targets; the HPA then owns the replica count."""

    min_replicas: Annotated[int, Field(ge=1)]
    max_replicas: Annotated[int, Field(ge=1, le=1000)]
    target_cpu_utilization: Percentage | None = Field(default=None, alias="targetCPUUtilization")
    target_memory_utilization: Percentage | None = None


class Requests(Model):
    """What the scheduler reserves and what HPA utilization is measured against."""

    cpu: CpuQuantity = "100m"
    memory: MemoryQuantity = "128Mi"
    ephemeral_storage: StorageQuantity | None = None
    """None: the environment profile's default."""


class Limits(Model):
    """The cap for a runaway pod; never below the request."""

    cpu: CpuQuantity = "1"
    memory: MemoryQuantity = "256Mi"
    ephemeral_storage: StorageQuantity | None = None
    """None: the environment profile's default."""


class ResourcesConfig(Model):
    """Requests and limits; each quantity has a sane default and may be overridden alone."""

    requests: Requests = Requests()
    limits: Limits = Limits()


class DisruptionBudgetConfig(Model):
    """PodDisruptionBudget: exactly one of maxUnavailable or minAvailable."""

    max_unavailable: IntOrPercent | None = None
    min_available: IntOrPercent | None = None

    def disruptions_allowed(self, pods: int) -> int:
        """Evictions the budget allows with `pods` healthy pods (hastack.kube: as Kubernetes rounds)."""
        return disruptions_allowed(self.max_unavailable, self.min_available, pods) or 0


class RateLimitConfig(Model):
    """Per-client limits enforced by the ingress controller."""

    rps: Annotated[int, Field(ge=1, le=100_000)]
    burst: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    connections: Annotated[int, Field(ge=1, le=100_000)] | None = None

    def as_rate_limit(self) -> RateLimit:
        """The controller-neutral value the profiles translate."""
        return RateLimit(self.rps, self.burst, self.connections)


Seconds = Annotated[int, Field(ge=1, le=3600)]


class BackendHealthConfig(Model):
    """Passive health checking: the proxy takes a backend out after errors in a row, and back after
    the ejection time (recovery), never more than a share of them at once."""

    consecutive_errors: Annotated[int, Field(ge=1, le=100)] = 5
    ejection_seconds: Seconds = 30
    max_ejected_percent: Annotated[int, Field(ge=1, le=100)] = 50


class RetriesConfig(Model):
    """Retry a failed request on another backend, on the listed conditions."""

    attempts: Annotated[int, Field(ge=1, le=10)]
    conditions: Annotated[list[RetryCondition], Field(min_length=1)] = ["connect-failure", "gateway-error"]
    """Not `on`: YAML 1.1 reads that key as the boolean true."""
    per_try_timeout_seconds: Seconds | None = None


class TimeoutsConfig(Model):
    """How long the proxy waits for a backend: to connect, for a whole request, between two reads."""

    connect_seconds: Seconds | None = None
    request_seconds: Seconds | None = None
    read_seconds: Seconds | None = None


class AppIngressConfig(Model):
    """Public exposure of one app: hosts, paths, balancing, abuse protection and backend failures."""

    hosts: Annotated[list[Hostname], Field(min_length=1)]
    paths: Annotated[list[HttpPath], Field(min_length=1)] = ["/"]
    load_balancing: LoadBalancing = "round-robin"
    rate_limit: RateLimitConfig | None = None
    backend_health: BackendHealthConfig | None = None
    retries: RetriesConfig | None = None
    timeouts: TimeoutsConfig | None = None

    def as_resilience(self) -> Resilience | None:
        """The controller-neutral value the profiles translate; None when nothing is asked."""
        if self.backend_health is None and self.retries is None and self.timeouts is None:
            return None
        health, retries, timeouts = self.backend_health, self.retries, self.timeouts or TimeoutsConfig()
        return Resilience(
            consecutive_errors=health.consecutive_errors if health else None,
            ejection_seconds=health.ejection_seconds if health else 30,
            max_ejected_percent=health.max_ejected_percent if health else 50,
            retry_attempts=retries.attempts if retries else None,
            retry_on=tuple(retries.conditions) if retries else (),
            per_try_timeout_seconds=retries.per_try_timeout_seconds if retries else None,
            connect_timeout_seconds=timeouts.connect_seconds,
            request_timeout_seconds=timeouts.request_seconds,
            read_timeout_seconds=timeouts.read_seconds,
        )


class GatewayConfig(Model):
    """An existing Gateway (Gateway API) that the apps' HTTPRoutes attach to; TLS terminates at it."""

    name: Dns1123Subdomain
    namespace: Dns1123Label | None = None
    section_name: Dns1123Subdomain = "https"
    redirect_section_name: Dns1123Subdomain = "http"
    implementation: GatewayImplementation = "envoy-gateway"
    proxy_namespace: Dns1123Label | None = None


class CanaryConfig(Model):
    """A second release of the app beside the stable one, receiving `weight` percent of requests."""

    image: Annotated[str, Field(min_length=1)]
    weight: CanaryWeight


class ShutdownConfig(Model):
    """Graceful stop: keep serving while load balancers drain, then let the app finish requests."""

    pre_stop_seconds: Annotated[int, Field(ge=0, le=120)] = 10
    termination_grace_period_seconds: Annotated[int, Field(ge=1, le=600)] = 45


class EgressPortConfig(Model):
    """One destination port (1-65535, any: the callee is not bound by our non-root rule)."""

    port: NetworkPort
    protocol: NetworkProtocol = "TCP"


class EgressConfig(Model):
    """One egress allowance: exactly one destination (a CIDR block, pods/namespaces by labels, or
    another app of the stack), and the ports it may be reached on."""

    cidr: Cidr | None = None
    except_: list[Cidr] = Field(default=[], alias="except")
    namespace_labels: dict[LabelKey, LabelValue] | None = None
    """{} selects every namespace (an open destination, see `reason`)."""
    pod_labels: dict[LabelKey, LabelValue] | None = None
    app: DnsName | None = None
    ports: list[EgressPortConfig] = []
    reason: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    """Why an open destination (0.0.0.0/0, every namespace) is needed; prod refuses one without it."""

    def is_open(self) -> bool:
        """Every address (a /0 block) or every namespace: what the prod profile wants acknowledged."""
        if self.cidr is not None:
            return self.cidr.endswith("/0")
        return self.namespace_labels == {}


class AppConfig(Model):
    """One highly available app: everything hastack needs to deploy and expose it."""

    name: DnsName
    image: Annotated[str, Field(min_length=1)]
    port: Port
    replicas: Annotated[int, Field(ge=1)] | None = None
    autoscaling: AutoscalingConfig | None = None
    resources: ResourcesConfig = ResourcesConfig()
    probes: ProbesConfig = ProbesConfig()
    disruption_budget: DisruptionBudgetConfig = DisruptionBudgetConfig.model_validate({"maxUnavailable": 1})
    ingress: AppIngressConfig | None = None
    exposure: Exposure | None = None
    canary: CanaryConfig | None = None
    env: dict[EnvName, str] = {}
    generated_secrets: list[EnvName] = []
    allow_from: list[DnsName] = []
    run_as_user: Annotated[int, Field(ge=1, le=2_147_483_647)] = 10001
    """The environment's floor (profile min_run_as_user) is checked in `checks`."""
    shutdown: ShutdownConfig = ShutdownConfig()
    egress: list[EgressConfig] = []
    secret_env: dict[EnvName, str] = {}
    """Stack secrets (`secure:` values): only ever in the app's Secret, never printed."""
    secrets_as: SecretsAs | None = None
    """How the pod gets its Secret: env variables or files; None takes the environment's default."""
    priority_class_name: Dns1123Subdomain | None = None
    """None: the environment profile's default (none unless the profile names one)."""

    def resource_quantities(self, profile: EnvironmentProfile) -> dict[str, dict[str, str]]:
        """Requests and limits as the container gets them, the profile's defaults filled in."""
        requests, limits = self.resources.requests, self.resources.limits
        return {
            "requests": {
                "cpu": requests.cpu,
                "memory": requests.memory,
                "ephemeral-storage": requests.ephemeral_storage or profile.ephemeral_storage_request,
            },
            "limits": {
                "cpu": limits.cpu,
                "memory": limits.memory,
                "ephemeral-storage": limits.ephemeral_storage or profile.ephemeral_storage_limit,
            },
        }

    def priority_class(self, profile: EnvironmentProfile) -> str | None:
        """The pods' priorityClassName: the app's own, else the profile's default."""
        return self.priority_class_name or profile.priority_class_name

    def replica_floor(self) -> int:
        """The fewest replicas the app can run with: the HPA minimum, else the fixed count."""
        if self.autoscaling is not None:
            return self.autoscaling.min_replicas
        return self.replicas if self.replicas is not None else 0


def app_calls(
    caller: str, caller_egress_apps: Iterable[str | None], callee: str, callee_allow_from: Iterable[str]
) -> bool:
    """Whether `caller` may open connections to `callee`: the callee lists it in allowFrom, or the
    caller names the callee in its egress (`egress[].app`). A stack and an AppGroup wire both ways."""
    return caller != callee and (caller in callee_allow_from or callee in caller_egress_apps)


class CallConfig(Model):
    """Another app of the namespace that a standalone app calls: its name and its port."""

    name: DnsName
    port: Port


@dataclass(frozen=True)
class Neighbours:
    """The apps of the namespace that one app talks to: the names of those that call it, and those
    it calls with their ports. A stack file's apps know each other; a standalone component knows its
    neighbours by name only (its allowFrom and its calls)."""

    callers: tuple[str, ...] = ()
    callees: tuple[CallConfig, ...] = ()

    @property
    def names(self) -> list[str]:
        """Every neighbour's name, once, callers first."""
        return list(dict.fromkeys([*self.callers, *(callee.name for callee in self.callees)]))


class EnvironmentConfig(Model):
    """Where apps run: the environment (its profile of floors and defaults), the namespace, and the
    cluster's shared entry points. The stack-wide keys of a stack file; a component's `environment`
    and `namespace` arguments."""

    environment: Environment
    namespace: NamespaceName
    cluster_domain: Hostname = "cluster.local"
    ingress: IngressConfig | None = None
    exposure: Exposure = "ingress"
    gateway: GatewayConfig | None = None

    @property
    def profile(self) -> EnvironmentProfile:
        return ENVIRONMENTS[self.environment]

    def exposure_of(self, app: AppConfig) -> Exposure | None:
        """How the app is reached from outside: its own choice, else the stack's; None if not exposed."""
        if app.ingress is None:
            return None
        return app.exposure or self.exposure


class StackConfig(EnvironmentConfig):
    """Everything under the `hastack:` namespace of one stack file: the environment and its apps."""

    apps: Annotated[list[AppConfig], Field(min_length=1)]

    def calls(self, caller: AppConfig, callee: AppConfig) -> bool:
        return app_calls(caller.name, [e.app for e in caller.egress], callee.name, callee.allow_from)

    def callers_of(self, app: AppConfig) -> list[AppConfig]:
        return [other for other in self.apps if other.name != app.name and self.calls(other, app)]

    def callees_of(self, app: AppConfig) -> list[AppConfig]:
        return [other for other in self.apps if other.name != app.name and self.calls(app, other)]

    def neighbours_of(self, app: AppConfig) -> Neighbours:
        """The app's callers and callees among the stack's apps, wired from one declaration each."""
        return Neighbours(
            callers=tuple(caller.name for caller in self.callers_of(app)),
            callees=tuple(
                CallConfig.model_validate({"name": callee.name, "port": callee.port})
                for callee in self.callees_of(app)
            ),
        )
