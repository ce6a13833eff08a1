"""The controllers that let traffic in (ingress controllers, Gateway API implementations): the only
place that knows controller-specific annotations and policy resources.

Each controller maps hastack's controller-neutral settings (load-balancing algorithm, rate limits,
HTTPS redirect, canary weight) to one implementation's annotations or policy spec, and says what
it cannot do so that config validation can refuse it with the list of what it can.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

LOAD_BALANCING_ALGORITHMS = ("round-robin", "least-connections", "ewma", "consistent-hash")
"""Every algorithm name the config accepts; a controller supports a subset."""

CANARY_WEIGHT_TOTAL = 100
"""Canary weights are percentages: the canary gets `weight`, the stable release the rest."""


@dataclass(frozen=True)
class RateLimit:
    """Per-client abuse protection: steady requests per second, burst, concurrent connections."""

    rps: int
    burst: int | None = None
    connections: int | None = None


RETRY_CONDITIONS = ("connect-failure", "gateway-error", "5xx", "reset")
"""When a request may be retried on another backend: the connection failed, a 502/503/504, any 5xx,
or the backend reset the connection."""


@dataclass(frozen=True)
class Resilience:
    """How the proxy takes unhealthy backends out and shields clients from one failing pod.

    Each field is None when not asked for; the keys are those of `apps[].ingress` in the config.
    """

    consecutive_errors: int | None = None
    """backendHealth: errors in a row that eject a backend (passive health check, outlier detection)."""
    ejection_seconds: int = 30
    max_ejected_percent: int = 50
    retry_attempts: int | None = None
    retry_on: tuple[str, ...] = ()
    per_try_timeout_seconds: int | None = None
    connect_timeout_seconds: int | None = None
    request_timeout_seconds: int | None = None
    read_timeout_seconds: int | None = None

    def requested(self) -> list[str]:
        """The config keys (below `apps[].ingress`) this asks a controller to honour."""
        keys = {
            "backendHealth": self.consecutive_errors,
            "retries": self.retry_attempts,
            "retries.perTryTimeoutSeconds": self.per_try_timeout_seconds,
            "timeouts.connectSeconds": self.connect_timeout_seconds,
            "timeouts.requestSeconds": self.request_timeout_seconds,
            "timeouts.readSeconds": self.read_timeout_seconds,
        }
        return [key for key, value in keys.items() if value is not None]


RESILIENCE_WHAT = {
    "backendHealth": "take a failing backend out of rotation by its errors (passive health check)",
    "retries": "retry a failed request on another backend",
    "retries.perTryTimeoutSeconds": "limit the time of each try",
    "timeouts.connectSeconds": "limit the time to connect to a backend",
    "timeouts.requestSeconds": "limit the time of a whole request",
    "timeouts.readSeconds": "limit the time between two reads from a backend",
}


@dataclass(frozen=True)
class Problem:
    """A setting the controller cannot honour: the config key below the app's ingress, and why."""

    key: str
    message: str


@dataclass(frozen=True, kw_only=True)
class Controller:
    """What one implementation (ingress controller or Gateway) can do with hastack's neutral settings."""

    name: str
    load_balancing: Mapping[str, Mapping[str, Any]]
    rate_limit_problems: Callable[[RateLimit], list[Problem]] = field(default=lambda _limit: [])
    resilience_keys: frozenset[str] = frozenset()
    """The Resilience keys (RESILIENCE_WHAT) this implementation can honour."""

    def problems(
        self, algorithm: str, rate_limit: RateLimit | None, resilience: Resilience | None = None
    ) -> list[Problem]:
        """Everything in the requested settings this implementation cannot do, with what it can."""
        found: list[Problem] = [
            Problem(key, f"{self.name} cannot {RESILIENCE_WHAT[key]}; {resilience_capable(key)} can")
            for key in (resilience.requested() if resilience is not None else [])
            if key not in self.resilience_keys
        ]
        if algorithm not in self.load_balancing:
            supported = ", ".join(self.load_balancing)
            found.append(
                Problem(
                    "loadBalancing", f"{self.name} does not support {algorithm!r}; it supports {supported}"
                )
            )
        if rate_limit is not None:
            found.extend(self.rate_limit_problems(rate_limit))
        return found


@dataclass(frozen=True, kw_only=True)
class IngressController(Controller):
    """What one ingress controller family can do, and the annotations that ask it to."""

    class_names: tuple[str, ...]
    default_namespace: str
    load_balancing: Mapping[str, Mapping[str, str]]
    redirect_annotations: Mapping[str, str]
    rate_limit_annotations: Callable[[RateLimit], dict[str, str]]
    canary_annotations: Callable[[int], dict[str, str]] | None = None
    """Annotations that make a second Ingress a weighted canary of the first; None: no such mechanism."""
    resilience_annotations: Callable[[Resilience], dict[str, str]] = field(default=lambda _r: {})

    def ingress_annotations(
        self, algorithm: str, rate_limit: RateLimit | None, resilience: Resilience | None = None
    ) -> dict[str, str]:
        """The annotations for a validated combination (call `problems` first)."""
        annotations = dict(self.redirect_annotations)
        annotations.update(self.load_balancing[algorithm])
        if rate_limit is not None:
            annotations.update(self.rate_limit_annotations(rate_limit))
        if resilience is not None:
            annotations.update(self.resilience_annotations(resilience))
        return annotations


_NGINX = "nginx.ingress.kubernetes.io/"


def _nginx_rate_limit(limit: RateLimit) -> dict[str, str]:
    annotations = {_NGINX + "limit-rps": str(limit.rps)}
    if limit.burst is not None:
        annotations[_NGINX + "limit-burst-multiplier"] = str(limit.burst // limit.rps)
    if limit.connections is not None:
        annotations[_NGINX + "limit-connections"] = str(limit.connections)
    return annotations


def _nginx_rate_limit_problems(limit: RateLimit) -> list[Problem]:
    if limit.burst is not None and limit.burst % limit.rps:
        lower = (limit.burst // limit.rps) * limit.rps or limit.rps
        return [
            Problem(
                "rateLimit.burst",
                f"ingress-nginx expresses burst as a whole multiple of rps ({limit.rps}); "
                f"use {lower} or {lower + limit.rps}",
            )
        ]
    return []


def _nginx_canary(weight: int) -> dict[str, str]:
    """ingress-nginx sends `weight` of every 100 requests for the same host and path to this Ingress."""
    return {
        _NGINX + "canary": "true",
        _NGINX + "canary-weight": str(weight),
        _NGINX + "canary-weight-total": str(CANARY_WEIGHT_TOTAL),
    }


_NGINX_NEXT_UPSTREAM = {
    "connect-failure": ("error", "timeout"),
    "gateway-error": ("http_502", "http_503", "http_504"),
    "5xx": ("http_500", "http_502", "http_503", "http_504"),
    "reset": ("error",),
}


def _nginx_resilience(resilience: Resilience) -> dict[str, str]:
    """proxy-next-upstream retries on the next backend (tries count the first one); timeouts in s."""
    annotations: dict[str, str] = {}
    if resilience.retry_attempts is not None:
        cases = [c for condition in resilience.retry_on for c in _NGINX_NEXT_UPSTREAM[condition]]
        annotations[_NGINX + "proxy-next-upstream"] = " ".join(dict.fromkeys(cases))
        annotations[_NGINX + "proxy-next-upstream-tries"] = str(resilience.retry_attempts + 1)
    for key, seconds in (
        ("proxy-connect-timeout", resilience.connect_timeout_seconds),
        ("proxy-read-timeout", resilience.read_timeout_seconds),
        ("proxy-send-timeout", resilience.read_timeout_seconds),
    ):
        if seconds is not None:
            annotations[_NGINX + key] = str(seconds)
    return annotations


_HAPROXY = "haproxy.org/"


def _haproxy_resilience(resilience: Resilience) -> dict[str, str]:
    """HAProxy's `timeout server` is the inactivity limit on the backend side."""
    if resilience.read_timeout_seconds is None:
        return {}
    return {_HAPROXY + "timeout-server": f"{resilience.read_timeout_seconds}s"}


def _haproxy_rate_limit(limit: RateLimit) -> dict[str, str]:
    return {_HAPROXY + "rate-limit-requests": str(limit.rps), _HAPROXY + "rate-limit-period": "1s"}


def _haproxy_rate_limit_problems(limit: RateLimit) -> list[Problem]:
    found = []
    if limit.burst is not None:
        found.append(
            Problem("rateLimit.burst", "haproxy counts requests per period and has no burst; remove burst")
        )
    if limit.connections is not None:
        found.append(
            Problem(
                "rateLimit.connections",
                "haproxy has no per-client connection limit annotation; remove connections",
            )
        )
    return found


def _traefik_resilience(resilience: Resilience) -> dict[str, str]:
    """Traefik's ingress-nginx provider reads the same proxy-next-upstream annotations, but retries
    `error timeout` three times when none is set: hastack says `off` unless retries are asked for, so a
    failing pod shows instead of being hidden by retries nobody configured."""
    annotations = _nginx_resilience(resilience)
    annotations.setdefault(_NGINX + "proxy-next-upstream", "off")
    return annotations


INGRESS_CONTROLLERS: tuple[IngressController, ...] = (
    IngressController(
        name="ingress-nginx",
        class_names=("nginx",),
        default_namespace="ingress-nginx",
        load_balancing={
            "round-robin": {_NGINX + "load-balance": "round_robin"},
            "ewma": {_NGINX + "load-balance": "ewma"},
            "consistent-hash": {_NGINX + "upstream-hash-by": "$binary_remote_addr"},
        },
        redirect_annotations={_NGINX + "ssl-redirect": "true", _NGINX + "force-ssl-redirect": "true"},
        rate_limit_annotations=_nginx_rate_limit,
        rate_limit_problems=_nginx_rate_limit_problems,
        canary_annotations=_nginx_canary,
        resilience_keys=frozenset({"retries", "timeouts.connectSeconds", "timeouts.readSeconds"}),
        resilience_annotations=_nginx_resilience,
    ),
    IngressController(
        name="haproxy",
        class_names=("haproxy",),
        default_namespace="haproxy-controller",
        load_balancing={
            "round-robin": {_HAPROXY + "load-balance": "roundrobin"},
            "least-connections": {_HAPROXY + "load-balance": "leastconn"},
            "consistent-hash": {_HAPROXY + "load-balance": "source"},
        },
        redirect_annotations={_HAPROXY + "ssl-redirect": "true"},
        rate_limit_annotations=_haproxy_rate_limit,
        rate_limit_problems=_haproxy_rate_limit_problems,
        resilience_keys=frozenset({"timeouts.readSeconds"}),
        resilience_annotations=_haproxy_resilience,
    ),
    # Traefik (v3.7+) serving Ingresses through its ingress-nginx provider: the migration path off the
    # retired ingress-nginx, reading the same annotations (IngressClass controller k8s.io/ingress-nginx).
    # It has no ewma or least-connections and no passive health check; `$remote_addr` is the hash key it
    # knows (not `$binary_remote_addr`).
    IngressController(
        name="traefik",
        class_names=("traefik",),
        default_namespace="traefik",
        load_balancing={
            "round-robin": {},
            "consistent-hash": {_NGINX + "upstream-hash-by": "$remote_addr"},
        },
        redirect_annotations={_NGINX + "ssl-redirect": "true", _NGINX + "force-ssl-redirect": "true"},
        rate_limit_annotations=_nginx_rate_limit,
        rate_limit_problems=_nginx_rate_limit_problems,
        canary_annotations=_nginx_canary,
        resilience_keys=frozenset({"retries", "timeouts.connectSeconds", "timeouts.readSeconds"}),
        resilience_annotations=_traefik_resilience,
    ),
)

INGRESS_CONTROLLERS_BY_NAME: dict[str, IngressController] = {c.name: c for c in INGRESS_CONTROLLERS}


def ingress_controller_for(class_name: str, controller: str | None = None) -> IngressController | None:
    """The controller named by `controller`, else the one whose usual ingress class is `class_name`."""
    if controller is not None:
        return INGRESS_CONTROLLERS_BY_NAME.get(controller)
    return next((p for p in INGRESS_CONTROLLERS if class_name in p.class_names), None)


def canary_controllers() -> list[str]:
    """`ingress-nginx (class nginx)` for each ingress controller that has a weighted canary."""
    return [
        f"{p.name} (class {', '.join(p.class_names)})"
        for p in INGRESS_CONTROLLERS
        if p.canary_annotations is not None
    ]


# ---- Gateway API implementations ---------------------------------------------------------------

GATEWAY_API_GROUP = "gateway.networking.k8s.io"
GATEWAY_API_VERSION = f"{GATEWAY_API_GROUP}/v1"


@dataclass(frozen=True, kw_only=True)
class GatewayController(Controller):
    """A Gateway API implementation: Gateway API has no standard for balancing or rate limits, so
    each implementation attaches its own policy resource to the HTTPRoute.
    """

    default_proxy_namespace: str
    """Where the implementation runs its data-plane proxies (the NetworkPolicy admits them)."""
    policy_api_version: str | None
    policy_kind: str | None
    """The implementation's own policy resource attached to each route; None: it has none, and only what
    Gateway API itself expresses (weights, round robin) is asked of it."""
    rate_limit_spec: Callable[[RateLimit], dict[str, Any]] = field(default=lambda _limit: {})
    resilience_spec: Callable[[Resilience], dict[str, Any]] = field(default=lambda _r: {})

    def traffic_policy_spec(
        self,
        algorithm: str,
        rate_limit: RateLimit | None,
        route_name: object,
        resilience: Resilience | None = None,
    ) -> dict[str, Any]:
        """The policy spec for a validated combination (call `problems` first), attached to one route."""
        spec: dict[str, Any] = {
            "targetRefs": [{"group": GATEWAY_API_GROUP, "kind": "HTTPRoute", "name": route_name}],
            "loadBalancer": dict(self.load_balancing[algorithm]),
        }
        if rate_limit is not None:
            spec["rateLimit"] = self.rate_limit_spec(rate_limit)
        if resilience is not None:
            spec.update(self.resilience_spec(resilience))
        return spec


def _envoy_rate_limit(limit: RateLimit) -> dict[str, Any]:
    """Local (per Envoy replica) limit with one bucket per client address, IPv4 and IPv6."""
    return {
        "type": "Local",
        "local": {
            "rules": [
                {
                    "clientSelectors": [{"sourceCIDR": {"type": "Distinct", "value": cidr}}],
                    "limit": {"requests": limit.rps, "unit": "Second"},
                }
                for cidr in ("0.0.0.0/0", "::/0")
            ]
        },
    }


def _envoy_rate_limit_problems(limit: RateLimit) -> list[Problem]:
    found = []
    if limit.burst is not None:
        found.append(
            Problem(
                "rateLimit.burst",
                "envoy-gateway's local rate limit refills rps tokens each second and has no separate "
                "burst; remove burst",
            )
        )
    if limit.connections is not None:
        found.append(
            Problem(
                "rateLimit.connections",
                "envoy-gateway's BackendTrafficPolicy has no per-client connection limit; remove connections",
            )
        )
    return found


def _envoy_resilience(resilience: Resilience) -> dict[str, Any]:
    """Outlier detection (healthCheck.passive: 5xx answers and connection failures alike count, and
    an ejected backend returns after the ejection time, longer each time it is ejected again),
    retries and timeouts of the BackendTrafficPolicy."""
    spec: dict[str, Any] = {}
    if resilience.consecutive_errors is not None:
        spec["healthCheck"] = {
            "passive": {
                "consecutive5XxErrors": resilience.consecutive_errors,
                "baseEjectionTime": f"{resilience.ejection_seconds}s",
                "maxEjectionPercent": resilience.max_ejected_percent,
            }
        }
    if resilience.retry_attempts is not None:
        retry: dict[str, Any] = {
            "numRetries": resilience.retry_attempts,
            "retryOn": {"triggers": list(resilience.retry_on)},
        }
        if resilience.per_try_timeout_seconds is not None:
            retry["perRetry"] = {"timeout": f"{resilience.per_try_timeout_seconds}s"}
        spec["retry"] = retry
    timeout: dict[str, Any] = {}
    if resilience.connect_timeout_seconds is not None:
        timeout["tcp"] = {"connectTimeout": f"{resilience.connect_timeout_seconds}s"}
    if resilience.request_timeout_seconds is not None:
        timeout["http"] = {"requestTimeout": f"{resilience.request_timeout_seconds}s"}
    if timeout:
        spec["timeout"] = timeout
    return spec


GATEWAY_CONTROLLERS: tuple[GatewayController, ...] = (
    GatewayController(
        name="envoy-gateway",
        default_proxy_namespace="envoy-gateway-system",
        policy_api_version="gateway.envoyproxy.io/v1alpha1",
        policy_kind="BackendTrafficPolicy",
        load_balancing={
            "round-robin": {"type": "RoundRobin"},
            "least-connections": {"type": "LeastRequest"},
            "consistent-hash": {"type": "ConsistentHash", "consistentHash": {"type": "SourceIP"}},
        },
        rate_limit_spec=_envoy_rate_limit,
        rate_limit_problems=_envoy_rate_limit_problems,
        resilience_keys=frozenset(RESILIENCE_WHAT) - {"timeouts.readSeconds"},
        resilience_spec=_envoy_resilience,
    ),
    # Traefik (v3.7+) as a Gateway API implementation: HTTPRoute weights (canaries) and its default
    # weighted round robin; balancing, rate limits and retries live in Traefik's own CRDs, which hastack
    # does not write, so they are refused on this path (the Ingress path, className traefik, has them).
    GatewayController(
        name="traefik",
        default_proxy_namespace="traefik",
        policy_api_version=None,
        policy_kind=None,
        load_balancing={"round-robin": {}},
        rate_limit_problems=lambda _limit: [
            Problem(
                "rateLimit",
                "traefik's Gateway API path has no rate limit hastack can attach; use the "
                "Ingress path (className traefik)",
            )
        ],
    ),
)

GATEWAY_CONTROLLERS_BY_NAME: dict[str, GatewayController] = {c.name: c for c in GATEWAY_CONTROLLERS}
GATEWAY_IMPLEMENTATIONS = tuple(GATEWAY_CONTROLLERS_BY_NAME)
"""Every implementation name the config accepts."""


# ---- Traefik's own routing resources (kind: IngressRoute) ---------------------------------------

TRAEFIK_API_VERSION = "traefik.io/v1alpha1"

ROUTE_KINDS = ("Ingress", "IngressRoute")
"""How an app's ingress block is rendered: a Kubernetes Ingress read through the controller's
annotations, or Traefik's IngressRoute (its CRD provider), which has what annotations cannot say."""

_TRAEFIK_RETRY_STATUS = {"gateway-error": "502-504", "5xx": "500-599"}
_NETWORK_ERRORS = frozenset({"connect-failure", "reset"})


@dataclass(frozen=True, kw_only=True)
class RouteController(Controller):
    """Traefik through its CRD provider: per-route strategy (least requests, least time), passive
    health check, and Middlewares for rate limits and retries."""

    controller_name: str
    """The IngressController (class) profile this route kind belongs to."""

    def service_spec(self, algorithm: str, resilience: Resilience | None) -> dict[str, Any]:
        """The balancing fields of an IngressRoute's service entry (call `problems` first)."""
        spec = dict(self.load_balancing[algorithm])
        if resilience is not None and resilience.consecutive_errors is not None:
            spec["passiveHealthCheck"] = {
                "maxFailedAttempts": resilience.consecutive_errors,
                "failureWindow": f"{resilience.ejection_seconds}s",
            }
        return spec

    @staticmethod
    def middleware_specs(rate_limit: RateLimit | None, resilience: Resilience | None) -> dict[str, Any]:
        """Middleware specs by name suffix (`ratelimit`, `inflight`, `retry`), applied in that order."""
        specs: dict[str, Any] = {}
        if rate_limit is not None:
            # average/period is the steady rate per client address, burst the bucket (Traefik's default 1)
            specs["ratelimit"] = {
                "rateLimit": {"average": rate_limit.rps, "period": "1s", "burst": rate_limit.burst or 1}
            }
            if rate_limit.connections is not None:
                specs["inflight"] = {"inFlightReq": {"amount": rate_limit.connections}}
        if resilience is not None and resilience.retry_attempts is not None:
            retry: dict[str, Any] = {"attempts": resilience.retry_attempts}
            status = [_TRAEFIK_RETRY_STATUS[c] for c in resilience.retry_on if c in _TRAEFIK_RETRY_STATUS]
            if status:
                retry["status"] = list(dict.fromkeys(status))
            if not _NETWORK_ERRORS & set(resilience.retry_on):
                retry["disableRetryOnNetworkError"] = True
            specs["retry"] = {"retry": retry}
        return specs


TRAEFIK_ROUTE = RouteController(
    name="traefik (kind: IngressRoute)",
    controller_name="traefik",
    # wrr: weighted round robin; p2c: of two random backends the one with fewer requests in flight;
    # leasttime: the lowest response time weighted by requests in flight (fastest response); hrw:
    # highest random weight over the client address (a client stays on its backend while it lives)
    load_balancing={
        "round-robin": {"strategy": "wrr"},
        "least-connections": {"strategy": "p2c"},
        "ewma": {"strategy": "leasttime"},
        "consistent-hash": {"strategy": "hrw"},
    },
    resilience_keys=frozenset({"backendHealth", "retries"}),
)
"""The `traefik` class rendered as IngressRoutes (`apps[].ingress.kind: IngressRoute`)."""

ROUTE_CONTROLLERS_BY_NAME: dict[str, RouteController] = {TRAEFIK_ROUTE.controller_name: TRAEFIK_ROUTE}


def resilience_capable(key: str) -> str:
    """`ingress-nginx (class nginx), envoy-gateway (exposure: gateway)`: who can honour `key`."""
    names = [
        f"{p.name} (class {', '.join(p.class_names)})"
        for p in INGRESS_CONTROLLERS
        if key in p.resilience_keys
    ]
    names += [f"{p.name}" for p in ROUTE_CONTROLLERS_BY_NAME.values() if key in p.resilience_keys]
    names += [f"{p.name} (exposure: gateway)" for p in GATEWAY_CONTROLLERS if key in p.resilience_keys]
    return ", ".join(names) or "no profile"
