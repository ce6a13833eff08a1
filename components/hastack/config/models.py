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
    RouteKind,
    SecretsAs,
    StackName,
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
    """Where the certificate comes from: cert-manager (an issuer), an existing Secret, or self-signed (dev
    only); prod and staging allow cert-manager and secret."""
    issuer: str | None = None
    """The ClusterIssuer cert-manager uses (secret `<app>-tls`); required by, and only for, `cert-manager`."""
    secret_name: str | None = None
    """An existing `kubernetes.io/tls` Secret; required by, and only for, `secret`."""


class IngressConfig(Model):
    """Stack-wide ingress: the controller (by class) and the certificate source."""

    class_name: ClassName
    """The IngressClass; it selects the controller: `nginx` (ingress-nginx), `haproxy` (HAProxy Kubernetes
    Ingress), `traefik` (Traefik's ingress-nginx provider: the same annotations, proven with traffic)."""
    controller: str | None = None
    """Names the controller when the class name is a custom one."""
    controller_namespace: NamespaceName | None = None
    """Where the controller runs, which the NetworkPolicies admit; the controller's usual namespace by default
    (`ingress-nginx`, `haproxy-controller`, `traefik`)."""
    tls: TlsConfig
    """The certificate source of every app's Ingress."""
    await_load_balancer: bool = True
    """`false` adds `pulumi.com/skipAwait` to the Ingresses: only for clusters where no controller publishes a
    load-balancer status (`make up` sets it for the local control plane), or Pulumi waits until its
    timeout."""


class ProbeConfig(Model):
    """An HTTP GET probe on the app's port."""

    path: HttpPath
    """The HTTP path, probed with GET on the port named `http`."""
    initial_delay_seconds: Annotated[int, Field(ge=0, le=600)] = 0
    """Seconds before the first probe."""
    period_seconds: Annotated[int, Field(ge=1, le=300)] = 10
    """Seconds between probes."""
    timeout_seconds: Annotated[int, Field(ge=1, le=60)] = 2
    """Seconds a probe may take."""
    failure_threshold: Annotated[int, Field(ge=1, le=120)] = 3
    """Failures in a row that count."""


class ProbesConfig(Model):
    """Readiness removes a pod from the Service; liveness restarts it; startup guards slow starts."""

    readiness: ProbeConfig = ProbeConfig.model_validate({"path": "/readyz", "periodSeconds": 5})
    """Takes a pod out of its Service while it fails."""
    liveness: ProbeConfig = ProbeConfig.model_validate({"path": "/livez"})
    """Restarts a pod while it fails; its path must differ from readiness's, or a failing dependency restarts
    every pod at once."""
    startup: ProbeConfig | None = None
    """Guards a slow start; by default the readiness check with a 150 s budget."""


class AutoscalingConfig(Model):
    """HorizontalPodAutoscaler bounds and targets; the HPA then owns the replica count."""

    min_replicas: Annotated[int, Field(ge=1)]
    """The HPA floor; at least the environment's replica floor."""
    max_replicas: Annotated[int, Field(ge=1, le=1000)]
    """The HPA ceiling; above `minReplicas`, or the HPA can never scale."""
    target_cpu_utilization: Percentage | None = Field(default=None, alias="targetCPUUtilization")
    """Average CPU use, in percent of the request, the HPA keeps; at least one target is required."""
    target_memory_utilization: Percentage | None = None
    """Average memory use, in percent of the request, the HPA keeps."""
    scale_down_stabilization_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    """Lower load must last this long before the HPA shrinks, so a brief dip does not shed capacity; scale-out
    never waits."""


class Requests(Model):
    """What the scheduler reserves and what HPA utilization is measured against."""

    cpu: CpuQuantity = "100m"
    """What the scheduler reserves, and what HPA utilization is measured against."""
    memory: MemoryQuantity = "128Mi"
    """What the scheduler reserves, and what HPA utilization is measured against."""
    ephemeral_storage: StorageQuantity | None = None
    """Scratch disk (logs, /tmp) the scheduler reserves; the environment profile's default (128Mi) when
    unset."""


class Limits(Model):
    """The cap for a runaway pod; never below the request."""

    cpu: CpuQuantity = "1"
    """The cap for a runaway pod; at least the request."""
    memory: MemoryQuantity = "256Mi"
    """The cap for a runaway pod; at least the request."""
    ephemeral_storage: StorageQuantity | None = None
    """Scratch disk above which the kubelet evicts the pod; the environment profile's default (1Gi) when
    unset; at least the request."""


class ResourcesConfig(Model):
    """Requests and limits; each quantity has a sane default and may be overridden alone."""

    requests: Requests = Requests()
    """Requests, each quantity overridable alone."""
    limits: Limits = Limits()
    """Limits, each quantity overridable alone."""


class DisruptionBudgetConfig(Model):
    """PodDisruptionBudget: exactly one of maxUnavailable or minAvailable."""

    max_unavailable: IntOrPercent | None = None
    """Pods that may be evicted at once (a count or a percentage, rounded up as Kubernetes rounds it); exactly
    one of this and `minAvailable`, allowing an eviction at the replica floor and keeping the environment's
    minimum available."""
    min_available: IntOrPercent | None = None
    """Pods that must stay (a count or a percentage, rounded up); the alternative to `maxUnavailable`."""

    def disruptions_allowed(self, pods: int) -> int:
        """Evictions the budget allows with `pods` healthy pods (hastack.kube: as Kubernetes rounds)."""
        return disruptions_allowed(self.max_unavailable, self.min_available, pods) or 0


class RateLimitConfig(Model):
    """Per-client limits enforced by the ingress controller."""

    rps: Annotated[int, Field(ge=1, le=100_000)]
    """Requests per second per client."""
    burst: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    """Requests a client may send at once, at least `rps`; ingress-nginx and traefik: a whole multiple of
    `rps`; haproxy and envoy-gateway: none."""
    connections: Annotated[int, Field(ge=1, le=100_000)] | None = None
    """Concurrent connections per client; haproxy and envoy-gateway: none."""

    def as_rate_limit(self) -> RateLimit:
        """The controller-neutral value the profiles translate."""
        return RateLimit(self.rps, self.burst, self.connections)


Seconds = Annotated[int, Field(ge=1, le=3600)]


class BackendHealthConfig(Model):
    """Passive health checking: the proxy takes a backend out after errors in a row, and back after
    the ejection time (recovery), never more than a share of them at once."""

    consecutive_errors: Annotated[int, Field(ge=1, le=100)] = 5
    """Errors in a row (5xx or failed connections) after which the proxy takes a backend out of rotation
    (passive health check); envoy-gateway, and traefik with `kind: IngressRoute` (errors within
    `ejectionSeconds`)."""
    ejection_seconds: Seconds = 30
    """How long an ejected backend stays out before it is let back (recovery)."""
    max_ejected_percent: Annotated[int, Field(ge=1, le=100)] = 50
    """The largest share of backends out at once; envoy-gateway (traefik has no such cap: setting it
    there is refused)."""


class RetriesConfig(Model):
    """Retry a failed request on another backend, on the listed conditions."""

    attempts: Annotated[int, Field(ge=1, le=10)]
    """Retries of a failed request on another backend; ingress-nginx (`proxy-next-upstream`, tries = attempts
    + 1), traefik (the same annotations; without retries hastack turns its default three off) and
    envoy-gateway."""
    conditions: Annotated[list[RetryCondition], Field(min_length=1)] = ["connect-failure", "gateway-error"]
    """When a request is retried. Not `on`: YAML 1.1 reads that key as the boolean true."""
    per_try_timeout_seconds: Seconds | None = None
    """The time of each try; envoy-gateway only."""


class TimeoutsConfig(Model):
    """How long the proxy waits for a backend: to connect, for a whole request, between two reads."""

    connect_seconds: Seconds | None = None
    """The time to connect to a backend; ingress-nginx, traefik, envoy-gateway."""
    request_seconds: Seconds | None = None
    """The time of a whole request, at least `perTryTimeoutSeconds` x (attempts + 1); envoy-gateway."""
    read_seconds: Seconds | None = None
    """The time between two reads from a backend; ingress-nginx and traefik (`proxy-read-timeout`,
    `proxy-send-timeout`), haproxy (`timeout-server`)."""


class AppIngressConfig(Model):
    """Public exposure of one app: hosts, paths, balancing, abuse protection and backend failures."""

    hosts: Annotated[list[Hostname], Field(min_length=1)]
    """Public hosts; each host and path is routed to one app only."""
    paths: Annotated[list[HttpPath], Field(min_length=1)] = ["/"]
    """Path prefixes (`pathType: Prefix`)."""
    kind: RouteKind = "Ingress"
    """`IngressRoute` renders Traefik's own route (class traefik only) with its Middlewares: it adds
    least-connections (p2c), ewma (least response time) and backendHealth, which Traefik's Ingress path
    lacks; no canary and no timeouts there."""
    load_balancing: LoadBalancing = "round-robin"
    """The balancing algorithm; it must be one the controller supports (ingress-nginx: round-robin, ewma,
    consistent-hash; traefik: round-robin, consistent-hash, and with `kind: IngressRoute` all four;
    haproxy: round-robin, least-connections, consistent-hash; envoy-gateway: round-robin,
    least-connections, consistent-hash)."""
    rate_limit: RateLimitConfig | None = None
    """Per-client abuse protection."""
    backend_health: BackendHealthConfig | None = None
    """Take a backend out on its errors before its readiness probe notices (`backendHealth: {}` takes every
    default)."""
    retries: RetriesConfig | None = None
    """Retry a failed request on another backend."""
    timeouts: TimeoutsConfig | None = None
    """How long the proxy waits for a backend."""

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
    """An existing Gateway (Gateway API v1); TLS terminates at its listener."""
    namespace: Dns1123Label | None = None
    """The Gateway's namespace (`parentRef.namespace`); the route's own by default."""
    section_name: Dns1123Subdomain = "https"
    """The HTTPS listener the apps' HTTPRoutes attach to."""
    redirect_section_name: Dns1123Subdomain = "http"
    """The plain-HTTP listener, where a route only redirects to HTTPS (301); not `sectionName`."""
    implementation: GatewayImplementation = "envoy-gateway"
    """Which Gateway API implementation: balancing and rate limits go through its policy resource
    (envoy-gateway: a BackendTrafficPolicy); traefik has none hastack writes: weights (canaries) and round
    robin only, proxies in namespace `traefik`."""
    proxy_namespace: Dns1123Label | None = None
    """Where the gateway proxies run, admitted by the apps' NetworkPolicies; the implementation's default."""


class CanaryConfig(Model):
    """A second release of the app beside the stable one, receiving `weight` percent of requests."""

    image: Annotated[str, Field(min_length=1)]
    """The canary release's image (the same rules as `image`; prod: a digest)."""
    weight: CanaryWeight
    """Percent of requests sent to the canary; the stable release gets the rest (0 keeps the canary running
    without traffic)."""


class ShutdownConfig(Model):
    """Graceful stop: keep serving while load balancers drain, then let the app finish requests."""

    pre_stop_seconds: Annotated[int, Field(ge=0, le=120)] = 10
    """A `preStop` sleep, so load balancers drain before the app stops."""
    termination_grace_period_seconds: Annotated[int, Field(ge=1, le=600)] = 45
    """The time the app has to finish its requests; at least `preStopSeconds` + 5."""


class EgressPortConfig(Model):
    """One destination port (1-65535, any: the callee is not bound by our non-root rule)."""

    port: NetworkPort
    """A destination port (any: the callee is not bound by hastack's non-root rule)."""
    protocol: NetworkProtocol = "TCP"
    """The port's protocol."""


class EgressConfig(Model):
    """One egress allowance: exactly one destination (a CIDR block, pods/namespaces by labels, another
    app of the stack, or an app of another stack), and the ports it may be reached on."""

    cidr: Cidr | None = None
    """A destination block, IPv4 or IPv6, host bits zero."""
    except_: list[Cidr] = Field(default=[], alias="except")
    """Smaller blocks inside `cidr` that stay closed."""
    namespace_labels: dict[LabelKey, LabelValue] | None = None
    """Destination namespaces, matched exactly (`matchLabels`); alone: every pod there; `{}` is every
    namespace (an open destination, see `reason`)."""
    pod_labels: dict[LabelKey, LabelValue] | None = None
    """Destination pods, matched exactly; alone: pods of the app's own namespace."""
    app: DnsName | None = None
    """Another app of the stack, on its own port (no `ports`): the same as that app listing this one in
    `allowFrom`. With `stack`: that stack's app."""
    stack: StackName | None = None
    """Another stack of this project and backend (`Pulumi.<stack>.yaml` beside this one), read through a
    stack reference: with `app`, egress to that app's pods in that stack's namespace on its own port, and
    the variable `<APP>_URL` (`http://<serviceDnsName>:<servicePort>`) in this app's environment. The
    callee admits this app with `allowFromStacks`; a fleet deploys that stack in an earlier wave."""
    ports: list[EgressPortConfig] = []
    """The ports the destination is reached on; required for `cidr` and labels (an empty list would allow
    every port)."""
    reason: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    """Why an open destination (`0.0.0.0/0`, `::/0`, every namespace) is needed; prod refuses one without it.
    It lands in the NetworkPolicy's `hastack.dev/open-egress-reason` annotation (the pack's
    `egress-not-open`)."""

    def url_variable(self) -> str | None:
        """The variable that carries the URL of another stack's app (`api-v2` -> `API_V2_URL`), the
        name the README's same-namespace example gives by hand; None for any other destination."""
        if self.stack is None or self.app is None:
            return None
        return f"{self.app.upper().replace('-', '_')}_URL"

    def is_open(self) -> bool:
        """Every address (a /0 block) or every namespace: what the prod profile wants acknowledged."""
        if self.cidr is not None:
            return self.cidr.endswith("/0")
        return self.namespace_labels == {}


class StackAppConfig(Model):
    """An app of another stack of this project (the caller an `allowFromStacks` entry admits)."""

    stack: StackName
    """The other stack's name; its namespace carries the label `hastack.dev/stack: <stack>`."""
    app: DnsName
    """The app of that stack (its pods' `app.kubernetes.io/name`)."""


class AppConfig(Model):
    """One highly available app: everything hastack needs to deploy and expose it."""

    name: DnsName
    """The app's name; it names its Service (`<name>.<namespace>.svc`). 40 characters leave room for generated
    suffixes."""
    image: Annotated[str, Field(min_length=1)]
    """The container image: a tag or a digest, never `:latest`; staging and prod: a digest (`@sha256:`)."""
    port: Port
    """The container port, named `http`: 1024 or more, since pods run as non-root with every capability
    dropped."""
    replicas: Annotated[int, Field(ge=1)] | None = None
    """A fixed replica count, at least the environment's floor; required unless `autoscaling` (not both)."""
    autoscaling: AutoscalingConfig | None = None
    """A HorizontalPodAutoscaler, which then owns the replica count."""
    resources: ResourcesConfig = ResourcesConfig()
    """Requests and limits of the app's container."""
    probes: ProbesConfig = ProbesConfig()
    """Readiness, liveness and startup probes."""
    disruption_budget: DisruptionBudgetConfig = DisruptionBudgetConfig.model_validate({"maxUnavailable": 1})
    """The PodDisruptionBudget; `unhealthyPodEvictionPolicy: AlwaysAllow` always."""
    ingress: AppIngressConfig | None = None
    """Public exposure through the stack's Ingress controller or Gateway."""
    exposure: Exposure | None = None
    """How this app is exposed, when it differs from the stack's `exposure`; only for an app with an `ingress`
    block."""
    canary: CanaryConfig | None = None
    """A second release beside the stable one (its own Deployment, HPA, PDB and Service `<app>-canary`),
    receiving `weight` percent of requests; the controller must have a weighted canary (ingress-nginx, or
    `exposure: gateway`)."""
    env: dict[EnvName, str] = {}
    """Plain environment variables, from the app's ConfigMap."""
    generated_secrets: list[EnvName] = []
    """Variables that get a 32-character `RandomPassword` each, in the app's Secret; not also in `env`."""
    allow_from: list[DnsName] = []
    """Other apps of the stack allowed to call this one; each gets the egress to it too (one declaration; the
    pack's `caller-egress-reaches-callee` checks both ends)."""
    allow_from_stacks: list[StackAppConfig] = []
    """Apps of other stacks of this project allowed to call this one (their `egress[]` names this app with
    `stack`): selected by their namespace's labels `hastack.dev/project` and `hastack.dev/stack` and
    their pods' name, so this stack needs no reference to theirs."""
    run_as_user: Annotated[int, Field(ge=1, le=2_147_483_647)] = 10001
    """The UID, group and fsGroup of the pods; at least the environment's floor (10000), clear of the UIDs
    images and hosts give real users."""
    shutdown: ShutdownConfig = ShutdownConfig()
    """Graceful stop: keep serving while load balancers drain, then let the app finish its requests."""
    egress: list[EgressConfig] = []
    """Where the app may connect beyond cluster DNS and the apps it calls; each entry names exactly one
    destination."""
    secret_env: dict[EnvName, str] = {}
    """Stack secrets (`secure:` values, set with `make secret`): only ever in the app's Secret, never in a
    ConfigMap, output or message; a plain value is refused; not also in `env` or `generatedSecrets`."""
    secrets_as: SecretsAs | None = None
    """How the pod gets its Secret (`secretEnv` and `generatedSecrets`): as variables (`envFrom`), or as one
    read-only file per key in `/var/run/secrets/hastack` (mode 0440). The environment's default: files in
    prod, else env."""
    priority_class_name: Dns1123Subdomain | None = None
    """The pods' PriorityClass, which must exist; not `system-*`; the environment profile's default (none)
    when unset. The pack advises one (`priority-class-set`)."""

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
    """The called app's name."""
    port: Port
    """The called app's port."""


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
    """The environment, whose profile sets the floors and defaults (the table above)."""
    namespace: NamespaceName
    """The namespace every app of the stack runs in; not `default` or `kube-*`."""
    cluster_domain: Hostname = "cluster.local"
    """The cluster's DNS domain, in each app's `serviceDnsName`."""
    ingress: IngressConfig | None = None
    """The cluster's Ingress controller (by class) and certificate source, for apps exposed through an
    Ingress."""
    exposure: Exposure = "ingress"
    """How apps with an `ingress` block are exposed, unless they set their own: an Ingress, or Gateway API
    HTTPRoutes."""
    gateway: GatewayConfig | None = None
    """An existing Gateway, for apps exposed through `gateway`."""

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
    """The apps, at least one; names unique."""

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
