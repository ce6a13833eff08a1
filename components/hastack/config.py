"""The typed, validated stack config: the only module that reads raw Pulumi config.

Shape and types are checked by pydantic (unknown keys are errors); environment floors and
cross-field rules are checked after, each with the exact key path. Everything is reported at
once, before any resource is registered, as `<stack file>: hastack:<path>: <what is allowed>, got <value>`.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, get_args, get_origin

import pulumi
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from hastack.controllers import (
    GATEWAY_IMPLEMENTATIONS,
    GATEWAY_PROFILES_BY_NAME,
    LOAD_BALANCING_ALGORITHMS,
    PROFILES,
    Profile,
    RateLimit,
    canary_controllers,
    profile_for,
)

PROJECT = "hastack"
"""Config namespace: keys are `hastack:<key>` in the stack files."""

Environment = Literal["dev", "staging", "prod"]
TlsMode = Literal["cert-manager", "secret", "self-signed"]
LoadBalancing = Literal["round-robin", "least-connections", "ewma", "consistent-hash"]
assert get_args(LoadBalancing) == LOAD_BALANCING_ALGORITHMS
Exposure = Literal["ingress", "gateway"]
GatewayImplementation = Literal["envoy-gateway"]
assert get_args(GatewayImplementation) == GATEWAY_IMPLEMENTATIONS


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

_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_HOST = re.compile(r"^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]([-a-z0-9]*[a-z0-9])?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
_TAG = re.compile(r":([\w][\w.-]{0,127})$")
_PERCENT = re.compile(r"^(\d{1,3})%$")
_RESERVED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def _dns1035(value: str) -> str:
    if len(value) > 40 or not _DNS1035.match(value):
        raise ValueError(
            "must be a DNS-1035 label of at most 40 characters (lower-case letters, digits, '-', "
            "starting with a letter); 40 leaves room for the suffixes of generated names"
        )
    return value


def _namespace(value: str) -> str:
    if len(value) > 63 or not _DNS1123_LABEL.match(value):
        raise ValueError("must be a DNS-1123 label (lower-case letters, digits, '-'), at most 63 characters")
    if value in _RESERVED_NAMESPACES:
        raise ValueError(f"must not be a shared system namespace ({', '.join(_RESERVED_NAMESPACES)})")
    return value


def _hostname(value: str) -> str:
    if len(value) > 253 or not _HOST.match(value):
        raise ValueError("must be a fully qualified lower-case DNS name such as shop.example.com")
    return value


def _http_path(value: str) -> str:
    if not value.startswith("/") or any(c.isspace() for c in value):
        raise ValueError("must be an absolute URL path such as / or /api")
    return value


def _dns1123_label(value: str) -> str:
    if len(value) > 63 or not _DNS1123_LABEL.match(value):
        raise ValueError("must be a DNS-1123 label (lower-case letters, digits, '-'), at most 63 characters")
    return value


def _dns1123_subdomain(value: str) -> str:
    if len(value) > 253 or not _DNS1123_SUBDOMAIN.match(value):
        raise ValueError("must be a DNS-1123 subdomain (lower-case letters, digits, '-', '.')")
    return value


def _weight(value: int) -> int:
    if not 0 <= value <= 100:
        raise ValueError("must be between 0 and 100 (percent of requests sent to the canary)")
    return value


def _port(value: int) -> int:
    if not 1024 <= value <= 65535:
        raise ValueError(
            "must be between 1024 and 65535: pods run as non-root with every capability dropped "
            "and cannot bind lower ports"
        )
    return value


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError("must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)")
    return value


def _quantity_text(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    return value


_SUFFIXES = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
}
_QUANTITY = re.compile(r"^(\d+(\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")


def parse_quantity(text: str) -> Decimal:
    """A Kubernetes resource quantity in base units, for comparing requests with limits."""
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError("must be a Kubernetes quantity such as 250m, 1, 512Mi or 1Gi")
    try:
        return Decimal(match.group(1)) * _SUFFIXES[match.group(3) or ""]
    except InvalidOperation as error:  # pragma: no cover - the regex admits only decimals
        raise ValueError(str(error)) from error


def _quantity(value: str) -> str:
    if parse_quantity(value) <= 0:
        raise ValueError("must be greater than zero")
    return value


def _int_or_percent(value: int | str) -> int | str:
    if isinstance(value, str):
        match = _PERCENT.match(value)
        if not match or not 0 <= int(match.group(1)) <= 100:
            raise ValueError("must be a whole number or a percentage between 0% and 100%")
    elif value < 0:
        raise ValueError("must not be negative")
    return value


DnsName = Annotated[str, AfterValidator(_dns1035)]
NamespaceName = Annotated[str, AfterValidator(_namespace)]
Hostname = Annotated[str, AfterValidator(_hostname)]
HttpPath = Annotated[str, AfterValidator(_http_path)]
EnvName = Annotated[str, AfterValidator(_env_name)]
Quantity = Annotated[str, BeforeValidator(_quantity_text), AfterValidator(_quantity)]
IntOrPercent = Annotated[int | str, AfterValidator(_int_or_percent)]
Percentage = Annotated[int, Field(ge=1, le=100)]


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

    class_name: Annotated[str, AfterValidator(_namespace)]
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

    cpu: Quantity = "100m"
    memory: Quantity = "128Mi"


class Limits(Model):
    """The cap for a runaway pod; never below the request."""

    cpu: Quantity = "1"
    memory: Quantity = "256Mi"


class ResourcesConfig(Model):
    """Requests and limits; each quantity has a sane default and may be overridden alone."""

    requests: Requests = Requests()
    limits: Limits = Limits()


class DisruptionBudgetConfig(Model):
    """PodDisruptionBudget: exactly one of maxUnavailable or minAvailable."""

    max_unavailable: IntOrPercent | None = None
    min_available: IntOrPercent | None = None


class RateLimitConfig(Model):
    """Per-client limits enforced by the ingress controller."""

    rps: Annotated[int, Field(ge=1, le=100_000)]
    burst: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    connections: Annotated[int, Field(ge=1, le=100_000)] | None = None

    def as_rate_limit(self) -> RateLimit:
        """The controller-neutral value the profiles translate."""
        return RateLimit(self.rps, self.burst, self.connections)


class AppIngressConfig(Model):
    """Public exposure of one app: hosts, paths, balancing and abuse protection."""

    hosts: Annotated[list[Hostname], Field(min_length=1)]
    paths: Annotated[list[HttpPath], Field(min_length=1)] = ["/"]
    load_balancing: LoadBalancing = "round-robin"
    rate_limit: RateLimitConfig | None = None


class GatewayConfig(Model):
    """An existing Gateway (Gateway API) that the apps' HTTPRoutes attach to; TLS terminates at it."""

    name: Annotated[str, AfterValidator(_dns1123_subdomain)]
    namespace: Annotated[str, AfterValidator(_dns1123_label)] | None = None
    section_name: Annotated[str, AfterValidator(_dns1123_subdomain)] = "https"
    redirect_section_name: Annotated[str, AfterValidator(_dns1123_subdomain)] = "http"
    implementation: GatewayImplementation = "envoy-gateway"
    proxy_namespace: Annotated[str, AfterValidator(_dns1123_label)] | None = None


class CanaryConfig(Model):
    """A second release of the app beside the stable one, receiving `weight` percent of requests."""

    image: Annotated[str, Field(min_length=1)]
    weight: Annotated[int, AfterValidator(_weight)]


class ShutdownConfig(Model):
    """Graceful stop: keep serving while load balancers drain, then let the app finish requests."""

    pre_stop_seconds: Annotated[int, Field(ge=0, le=120)] = 10
    termination_grace_period_seconds: Annotated[int, Field(ge=1, le=600)] = 45


class AppConfig(Model):
    """One highly available app: everything hastack needs to deploy and expose it."""

    name: DnsName
    image: Annotated[str, Field(min_length=1)]
    port: Annotated[int, AfterValidator(_port)]
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
    run_as_user: Annotated[int, Field(ge=1000, le=2_147_483_647)] = 10001
    shutdown: ShutdownConfig = ShutdownConfig()

    def replica_floor(self) -> int:
        """The fewest replicas the app can run with: the HPA minimum, else the fixed count."""
        if self.autoscaling is not None:
            return self.autoscaling.min_replicas
        return self.replicas if self.replicas is not None else 0


class StackConfig(Model):
    """Everything under the `hastack:` namespace of one stack file."""

    environment: Environment
    namespace: NamespaceName
    cluster_domain: Annotated[str, AfterValidator(_hostname)] = "cluster.local"
    ingress: IngressConfig | None = None
    exposure: Exposure = "ingress"
    gateway: GatewayConfig | None = None
    apps: Annotated[list[AppConfig], Field(min_length=1)]

    @property
    def rules(self) -> EnvironmentRules:
        return ENVIRONMENTS[self.environment]

    def exposure_of(self, app: AppConfig) -> Exposure | None:
        """How the app is reached from outside: its own choice, else the stack's; None if not exposed."""
        if app.ingress is None:
            return None
        return app.exposure or self.exposure


class ConfigError(pulumi.RunError):
    """Invalid stack config; raised before any resource is registered. RunError prints no traceback."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {source}: {problem}" for problem in problems)
        super().__init__(f"invalid stack config ({len(problems)} problem(s)):\n{lines}")


def key_path(loc: Iterable[str | int]) -> str:
    """`("apps", 1, "autoscaling")` -> `hastack:apps[1].autoscaling`."""
    text = PROJECT
    for index, part in enumerate(loc):
        if part == "[key]":  # pydantic's marker for "the key itself was invalid"
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += (":" if index == 0 else ".") + part
    return text


def _show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else repr(value)


def _model_at(loc: tuple[str | int, ...]) -> type[Model] | None:
    """The model class found at a key path, to list the keys it allows."""
    current: Any = StackConfig
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, Model)):
            return None
        field = next(
            (f for name, f in current.model_fields.items() if (f.alias or to_camel(name)) == part),
            None,
        )
        if field is None:
            return None
        current = _unwrap_model(field.annotation)
    return current if isinstance(current, type) and issubclass(current, Model) else None


def _unwrap_model(annotation: Any) -> Any:
    """The Model inside Optional[...], list[...] or Annotated[...], if any."""
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return annotation
    for arg in get_args(annotation) if get_origin(annotation) is not None else ():
        found = _unwrap_model(arg)
        if found is not None:
            return found
    return None


def allowed_keys(model: type[Model]) -> list[str]:
    return [field.alias or to_camel(name) for name, field in model.model_fields.items()]


def _describe(error: Mapping[str, Any]) -> str:
    loc = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        parent = _model_at(loc[:-1])
        keys = allowed_keys(parent) if parent else []
        hint = difflib.get_close_matches(str(loc[-1]), keys, n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        return f"{key_path(loc)}: unknown key{suggestion}; allowed keys: {', '.join(keys)}"
    if error["type"] == "missing":
        return f"{key_path(loc)}: required key is missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{key_path(loc)}: {message}, got {_show(error.get('input'))}"


def _image_problems(image: str, rules: EnvironmentRules, environment: str) -> list[str]:
    has_digest = bool(_DIGEST.search(image))
    name_part = image.split("@", 1)[0]
    tag_match = _TAG.search(name_part.rsplit("/", 1)[-1])
    if rules.require_digest and not has_digest:
        return [f"{environment} needs a digest-pinned image (name@sha256:<64 hex>)"]
    if "@" in image and not has_digest:
        return ["digest must be sha256:<64 lower-case hex>"]
    if not has_digest and not tag_match:
        return ["needs a tag or digest; an untagged image means :latest"]
    if tag_match and tag_match.group(1) == "latest":
        return [":latest is not repeatable; pin a version tag or a digest"]
    return []


def allowed_disruptions(budget: DisruptionBudgetConfig, replicas: int) -> int:
    """Evictions the budget allows at `replicas` healthy pods, rounded as the disruption controller rounds."""
    if budget.max_unavailable is not None:
        return _scaled(budget.max_unavailable, replicas)
    if budget.min_available is not None:
        return max(0, replicas - _scaled(budget.min_available, replicas))
    return 0


def _scaled(value: int | str, replicas: int) -> int:
    if isinstance(value, int):
        return value
    return math.ceil(int(value.rstrip("%")) * replicas / 100)


def _app_problems(app: AppConfig, index: int, stack: StackConfig) -> list[str]:
    rules = stack.rules
    env = stack.environment
    found: list[str] = []

    def add(loc: tuple[str | int, ...], message: str, value: Any) -> None:
        found.append(f"{key_path(('apps', index, *loc))}: {message}, got {_show(value)}")

    found.extend(
        f"{key_path(('apps', index, 'image'))}: {p}, got {_show(app.image)}"
        for p in _image_problems(app.image, rules, env)
    )
    if app.replicas is not None and app.autoscaling is not None:
        add(("replicas",), "is ignored when autoscaling owns the count; remove one of them", app.replicas)
    if app.autoscaling is None and app.replicas is None:
        add(("replicas",), f"set replicas (at least {rules.min_replicas} in {env}) or autoscaling", None)
    if app.replicas is not None and app.replicas < rules.min_replicas:
        add(("replicas",), f"{env} needs at least {rules.min_replicas} replicas", app.replicas)
    scaling = app.autoscaling
    if scaling is not None:
        if scaling.min_replicas < rules.min_replicas:
            add(
                ("autoscaling", "minReplicas"),
                f"{env} needs at least {rules.min_replicas} replicas",
                scaling.min_replicas,
            )
        if scaling.max_replicas <= scaling.min_replicas:
            add(
                ("autoscaling", "maxReplicas"),
                f"must be greater than minReplicas ({scaling.min_replicas}) or the HPA can never scale",
                scaling.max_replicas,
            )
        if scaling.target_cpu_utilization is None and scaling.target_memory_utilization is None:
            add(
                ("autoscaling",),
                "needs targetCPUUtilization or targetMemoryUtilization",
                scaling.model_dump(by_alias=True),
            )
    for resource in ("cpu", "memory"):
        request = getattr(app.resources.requests, resource)
        limit = getattr(app.resources.limits, resource)
        if parse_quantity(limit) < parse_quantity(request):
            add(("resources", "limits", resource), f"must be at least the request {request}", limit)
    probes = app.probes
    if probes.liveness.path == probes.readiness.path:
        add(
            ("probes", "liveness", "path"),
            "must differ from the readiness path: a failing dependency would restart every pod at once",
            probes.liveness.path,
        )
    found.extend(_budget_problems(app, index, stack))
    if app.ingress is not None:
        found.extend(_ingress_problems(app.ingress, index, stack))
    elif app.exposure is not None:
        add(("exposure",), "only applies to an app with an ingress block (hosts and paths)", app.exposure)
    found.extend(_canary_problems(app, index, stack))
    for key in sorted(set(app.env) & set(app.generated_secrets)):
        add(("env", key), "is also listed in generatedSecrets; one source per variable", app.env[key])
    names = [a.name for a in stack.apps]
    for position, peer in enumerate(app.allow_from):
        if peer == app.name or peer not in names:
            others = ", ".join(n for n in names if n != app.name) or "none"
            add(("allowFrom", position), f"must name another app of this stack ({others})", peer)
    shutdown = app.shutdown
    if shutdown.termination_grace_period_seconds < shutdown.pre_stop_seconds + 5:
        add(
            ("shutdown", "terminationGracePeriodSeconds"),
            f"must exceed preStopSeconds ({shutdown.pre_stop_seconds}) by at least 5 so requests can finish",
            shutdown.termination_grace_period_seconds,
        )
    return found


def _budget_problems(app: AppConfig, index: int, stack: StackConfig) -> list[str]:
    budget = app.disruption_budget
    loc: tuple[str | int, ...] = ("apps", index, "disruptionBudget")
    both = budget.max_unavailable is not None and budget.min_available is not None
    if both or (budget.max_unavailable is None and budget.min_available is None):
        return [
            f"{key_path(loc)}: set exactly one of maxUnavailable or minAvailable, "
            f"got {_show(budget.model_dump(by_alias=True, exclude_none=True))}"
        ]
    floor = app.replica_floor()
    if floor < 1:
        return []
    key = "maxUnavailable" if budget.max_unavailable is not None else "minAvailable"
    value = budget.max_unavailable if budget.max_unavailable is not None else budget.min_available
    allowed = allowed_disruptions(budget, floor)
    keep = stack.rules.min_available_during_disruption
    if allowed < 1:
        return [
            f"{key_path((*loc, key))}: allows no eviction at the replica floor of {floor}, so node drains "
            f"would block; use maxUnavailable: 1, got {_show(value)}"
        ]
    if floor - allowed < keep:
        return [
            f"{key_path((*loc, key))}: {stack.environment} keeps at least {keep} pod(s) available during "
            f"disruptions, but this allows {allowed} of {floor} to be evicted, got {_show(value)}"
        ]
    return []


def _canary_problems(app: AppConfig, index: int, stack: StackConfig) -> list[str]:
    canary = app.canary
    if canary is None:
        return []
    loc: tuple[str | int, ...] = ("apps", index, "canary")
    shown = _show(canary.model_dump(by_alias=True))
    if app.ingress is None:
        return [
            f"{key_path(loc)}: needs the app's ingress block: traffic is split where it enters, at the "
            f"ingress or the gateway, got {shown}"
        ]
    found = [
        f"{key_path((*loc, 'image'))}: {p}, got {_show(canary.image)}"
        for p in _image_problems(canary.image, stack.rules, stack.environment)
    ]
    if stack.exposure_of(app) == "ingress" and stack.ingress is not None:
        profile = profile_for(stack.ingress.class_name, stack.ingress.controller)
        if profile is not None and profile.canary_annotations is None:
            found.append(
                f"{key_path(loc)}: {profile.name} has no weighted canary mechanism; controllers that have "
                f"one: {', '.join(canary_controllers())}; or set exposure: gateway, got {shown}"
            )
    return found


def _exposure_key(app: AppConfig, index: int) -> str:
    """Where the app's exposure was chosen: its own key, else the stack default."""
    return key_path(("apps", index, "exposure")) if app.exposure is not None else key_path(("exposure",))


def _ingress_problems(ingress: AppIngressConfig, index: int, stack: StackConfig) -> list[str]:
    loc: tuple[str | int, ...] = ("apps", index, "ingress")
    app = stack.apps[index]
    if stack.exposure_of(app) == "gateway":
        if stack.gateway is None:
            return [
                f"{_exposure_key(app, index)}: needs the stack-wide hastack:gateway "
                f"(name, namespace, sectionName), got {_show('gateway')}"
            ]
        profile: Profile | None = GATEWAY_PROFILES_BY_NAME[stack.gateway.implementation]
    elif stack.ingress is None:
        return [f"{key_path(loc)}: needs the stack-wide hastack:ingress (className and tls), got nothing"]
    else:
        profile = profile_for(stack.ingress.class_name, stack.ingress.controller)
    if profile is None:
        return []  # reported once, on hastack:ingress
    limit = None
    if ingress.rate_limit is not None:
        limit = ingress.rate_limit.as_rate_limit()
        if limit.burst is not None and limit.burst < limit.rps:
            return [
                f"{key_path((*loc, 'rateLimit', 'burst'))}: must be at least rps ({limit.rps}), "
                f"got {limit.burst}"
            ]
    return [
        f"{key_path(loc)}.{problem.key}: {problem.message}, got "
        f"{_show(_lookup(ingress.model_dump(by_alias=True), problem.key))}"
        for problem in profile.problems(ingress.load_balancing, limit)
    ]


def _lookup(tree: Mapping[str, Any], dotted: str) -> Any:
    value: Any = tree
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _stack_ingress_problems(stack: StackConfig) -> list[str]:
    ingress = stack.ingress
    if ingress is None:
        return []
    found: list[str] = []
    if profile_for(ingress.class_name, ingress.controller) is None:
        if ingress.controller is not None:
            known = ", ".join(p.name for p in PROFILES)
            found.append(
                f"{key_path(('ingress', 'controller'))}: unknown controller; known: {known}, "
                f"got {_show(ingress.controller)}"
            )
        else:
            known = ", ".join(f"{c} ({p.name})" for p in PROFILES for c in p.class_names)
            found.append(
                f"{key_path(('ingress', 'className'))}: no controller profile for this class; use one of "
                f"{known} or name the controller with ingress.controller, got {_show(ingress.class_name)}"
            )
    tls = ingress.tls
    loc: tuple[str | int, ...] = ("ingress", "tls")
    if tls.mode not in stack.rules.tls_modes:
        found.append(
            f"{key_path((*loc, 'mode'))}: {stack.environment} allows {', '.join(stack.rules.tls_modes)}, "
            f"got {_show(tls.mode)}"
        )
    needs = {"cert-manager": "issuer", "secret": "secretName", "self-signed": None}[tls.mode]
    for key, value in (("issuer", tls.issuer), ("secretName", tls.secret_name)):
        if key == needs and value is None:
            found.append(f"{key_path((*loc, key))}: mode {tls.mode} needs {key}, got nothing")
        elif key != needs and value is not None:
            found.append(
                f"{key_path((*loc, key))}: not used by mode {tls.mode}; remove it, got {_show(value)}"
            )
    for key, value in (("issuer", tls.issuer), ("secretName", tls.secret_name)):
        if value is not None and not _DNS1123_SUBDOMAIN.match(value):
            found.append(f"{key_path((*loc, key))}: must be a DNS-1123 subdomain, got {_show(value)}")
    return found


def _stack_gateway_problems(stack: StackConfig) -> list[str]:
    gateway = stack.gateway
    if gateway is None:
        return []
    if gateway.redirect_section_name == gateway.section_name:
        return [
            f"{key_path(('gateway', 'redirectSectionName'))}: must name the plain-HTTP listener, not the "
            f"HTTPS one in sectionName ({gateway.section_name}), or every request would be redirected "
            f"forever, got {_show(gateway.redirect_section_name)}"
        ]
    return []


def _stack_problems(stack: StackConfig, focus: AppConfig | None = None) -> list[str]:
    """Stack-wide rules, plus the per-app rules of every app (or only of `focus`)."""
    found = _stack_ingress_problems(stack) + _stack_gateway_problems(stack)
    seen: dict[str, int] = {}
    routes: dict[tuple[str, str], str] = {}
    for index, app in enumerate(stack.apps):
        if app.name in seen:
            found.append(
                f"{key_path(('apps', index, 'name'))}: must be unique in the stack "
                f"(also apps[{seen[app.name]}]), got {_show(app.name)}"
            )
        seen.setdefault(app.name, index)
        if focus is None or app == focus:
            found.extend(_app_problems(app, index, stack))
        for host in app.ingress.hosts if app.ingress else []:
            for path in app.ingress.paths if app.ingress else []:
                owner = routes.setdefault((host, path), app.name)
                if owner != app.name:
                    found.append(
                        f"{key_path(('apps', index, 'ingress', 'hosts'))}: {host}{path} is already routed to "
                        f"{owner}, got {_show(host)}"
                    )
    return list(dict.fromkeys(found))  # a stack-wide default shared by several apps is reported once


def check(stack: StackConfig, source: str, focus: AppConfig | None = None) -> None:
    """The environment and cross-field rules, for models built from files or in code.

    A component passes its own app as `focus`, so N apps cost N app checks, not N².
    """
    problems = _stack_problems(stack, focus)
    if problems:
        raise ConfigError(source, problems)


def validate(raw: Mapping[str, Any], source: str) -> StackConfig:
    """Validates the `hastack:` config of one stack; raises ConfigError listing every problem."""
    try:
        stack = StackConfig.model_validate(dict(raw))
    except ValidationError as error:
        raise ConfigError(source, [_describe(e) for e in error.errors()]) from None
    check(stack, source)
    return stack


_OBJECT_KEYS = ("ingress", "gateway", "apps")


def raw_from_engine(config: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """Turns the engine's `hastack:*` string values into a tree; structured keys are JSON-decoded."""
    raw: dict[str, Any] = {}
    problems: list[str] = []
    for full_key, value in sorted(config.items()):
        namespace, _, key = full_key.partition(":")
        if namespace != PROJECT:
            continue
        if key in _OBJECT_KEYS:
            try:
                raw[key] = json.loads(value)
            except json.JSONDecodeError:
                problems.append(
                    f"{key_path((key,))}: must be a structured value (object or list), got {_show(value)}"
                )
        else:
            raw[key] = value
    return raw, problems


def load(stack_name: str | None = None) -> StackConfig:
    """Reads and validates this stack's `hastack:` config from the running Pulumi program."""
    from pulumi.runtime.config import CONFIG, get_config_env

    stack_name = stack_name or pulumi.get_stack()
    source = f"Pulumi.{stack_name}.yaml"
    merged = {**get_config_env(), **CONFIG.get()}
    raw, problems = raw_from_engine(merged)
    if problems:
        raise ConfigError(source, problems)
    return validate(raw, source)
