"""Cross-field and environment rules, checked after the models parse: each problem names its key path."""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Mapping
from typing import Any

from pydantic.alias_generators import to_camel

from hastack.config.errors import ConfigError, key_path, quote
from hastack.config.models import AppConfig, AppIngressConfig, EnvironmentConfig, Neighbours, StackConfig
from hastack.config.profiles import EnvironmentProfile
from hastack.config.types import DIGEST, DNS1123_SUBDOMAIN, TAG, parse_quantity
from hastack.controllers import (
    GATEWAY_CONTROLLERS_BY_NAME,
    INGRESS_CONTROLLERS,
    ROUTE_CONTROLLERS_BY_NAME,
    Controller,
    canary_controllers,
    ingress_controller_for,
)


def _image_problems(image: str, profile: EnvironmentProfile, environment: str) -> list[str]:
    has_digest = bool(DIGEST.search(image))
    name_part = image.split("@", 1)[0]
    tag_match = TAG.search(name_part.rsplit("/", 1)[-1])
    if profile.require_digest and not has_digest:
        return [f"{environment} needs a digest-pinned image (name@sha256:<64 hex>)"]
    if "@" in image and not has_digest:
        return ["digest must be sha256:<64 lower-case hex>"]
    if not has_digest and not tag_match:
        return ["needs a tag or digest; an untagged image means :latest"]
    if tag_match and tag_match.group(1) == "latest":
        return [":latest is not repeatable; pin a version tag or a digest"]
    return []


def _app_problems(app: AppConfig, index: int, stack: StackConfig, others: list[str]) -> list[str]:
    """One app's rules; `others` are the names of the apps it may name (allowFrom, egress[].app)."""
    profile = stack.profile
    env = stack.environment
    found: list[str] = []

    def add(loc: tuple[str | int, ...], message: str, value: Any) -> None:
        found.append(f"{key_path(('apps', index, *loc))}: {message}, got {quote(value)}")

    found.extend(
        f"{key_path(('apps', index, 'image'))}: {p}, got {quote(app.image)}"
        for p in _image_problems(app.image, profile, env)
    )
    if app.replicas is not None and app.autoscaling is not None:
        add(("replicas",), "is ignored when autoscaling owns the count; remove one of them", app.replicas)
    if app.autoscaling is None and app.replicas is None:
        add(("replicas",), f"set replicas (at least {profile.min_replicas} in {env}) or autoscaling", None)
    if app.replicas is not None and app.autoscaling is None and app.replicas < profile.min_replicas:
        add(("replicas",), f"{env} needs at least {profile.min_replicas} replicas", app.replicas)
    scaling = app.autoscaling
    if scaling is not None:
        if scaling.min_replicas < profile.min_replicas:
            add(
                ("autoscaling", "minReplicas"),
                f"{env} needs at least {profile.min_replicas} replicas",
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
    quantities = app.resource_quantities(profile)
    for resource, request in quantities["requests"].items():
        limit = quantities["limits"][resource]
        if parse_quantity(limit) < parse_quantity(request):
            key = to_camel(resource.replace("-", "_"))
            add(("resources", "limits", key), f"must be at least the request {request}", limit)
    if app.run_as_user < profile.min_run_as_user:
        add(
            ("runAsUser",),
            f"{env} needs a UID of at least {profile.min_run_as_user}, clear of the UIDs images and hosts "
            "give to real users",
            app.run_as_user,
        )
    priority = app.priority_class_name
    if priority is not None and priority.startswith("system-"):
        add(
            ("priorityClassName",),
            "system-* classes are reserved for cluster components (kube-system); name your own PriorityClass",
            priority,
        )
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
    for position, peer in enumerate(app.allow_from):
        if peer == app.name or peer not in others:
            add(
                ("allowFrom", position),
                f"must name another app of this stack ({', '.join(others) or 'none'})",
                peer,
            )
    found.extend(_egress_problems(app, index, stack, others))
    found.extend(_secret_env_problems(app, index))
    shutdown = app.shutdown
    if shutdown.termination_grace_period_seconds < shutdown.pre_stop_seconds + 5:
        add(
            ("shutdown", "terminationGracePeriodSeconds"),
            f"must exceed preStopSeconds ({shutdown.pre_stop_seconds}) by at least 5 so requests can finish",
            shutdown.termination_grace_period_seconds,
        )
    return found


def _egress_problems(app: AppConfig, index: int, stack: StackConfig, names: list[str]) -> list[str]:
    """One destination per allowance, `except` inside its block, ports named, open ones explained."""
    found: list[str] = []
    for position, egress in enumerate(app.egress):
        loc: tuple[str | int, ...] = ("apps", index, "egress", position)
        shown = quote(egress.model_dump(by_alias=True, exclude_defaults=True))
        kinds = [
            kind
            for kind, present in (
                ("cidr", egress.cidr is not None),
                (
                    "namespaceLabels/podLabels",
                    egress.namespace_labels is not None or egress.pod_labels is not None,
                ),
                ("app", egress.app is not None or egress.stack is not None),
            )
            if present
        ]
        if len(kinds) != 1:
            found.append(
                f"{key_path(loc)}: set exactly one destination: cidr, namespaceLabels/podLabels, or app, "
                f"got {shown}"
            )
            continue
        if egress.except_ and egress.cidr is None:
            found.append(f"{key_path((*loc, 'except'))}: only applies to a cidr destination, got {shown}")
        if egress.cidr is not None:
            block = ipaddress.ip_network(egress.cidr)
            for number, text in enumerate(egress.except_):
                hole = ipaddress.ip_network(text)
                if hole.version != block.version or hole == block or not hole.subnet_of(block):  # type: ignore[arg-type]
                    found.append(
                        f"{key_path((*loc, 'except', number))}: must be a smaller block inside "
                        f"{egress.cidr}, got {quote(text)}"
                    )
        if egress.stack is not None and egress.app is None:
            found.append(
                f"{key_path((*loc, 'app'))}: name the app of stack {egress.stack!r} this one calls "
                f"(an app it exports), got nothing"
            )
        if egress.app is not None:
            if egress.stack is None and egress.app not in names:
                found.append(
                    f"{key_path((*loc, 'app'))}: must name another app of this stack "
                    f"({', '.join(names) or 'none'}), got {quote(egress.app)}"
                )
            if egress.ports:
                found.append(
                    f"{key_path((*loc, 'ports'))}: an app is reached on its own port; remove ports, "
                    f"got {quote([p.model_dump() for p in egress.ports])}"
                )
        elif not egress.ports:
            found.append(
                f"{key_path((*loc, 'ports'))}: name the ports this destination is reached on "
                f"(e.g. [{{port: 5432}}]); an empty list would allow every port, got []"
            )
        if egress.pod_labels == {} and egress.namespace_labels is None:
            found.append(
                f"{key_path((*loc, 'podLabels'))}: select pods by at least one label ({{}} would be every "
                f"pod of the namespace), got {{}}"
            )
        if egress.is_open() and stack.profile.open_egress_needs_reason and egress.reason is None:
            what = "every address" if egress.cidr is not None else "every namespace"
            found.append(
                f"{key_path(loc)}: {stack.environment} refuses egress to {what} unless reason says why "
                f"(or name the destination's block or namespace), got {shown}"
            )
        if egress.reason is not None and not egress.is_open():
            found.append(
                f"{key_path((*loc, 'reason'))}: only for an open destination (a /0 block or every "
                f"namespace); remove it, got {quote(egress.reason)}"
            )
    found.extend(_url_variable_problems(app, index))
    return found


def _url_variable_problems(app: AppConfig, index: int) -> list[str]:
    """The variable an egress to another stack's app sets is that entry's alone: one source per
    variable, as for env and secrets."""
    found: list[str] = []
    given: dict[str, int] = {}
    for position, egress in enumerate(app.egress):
        variable = egress.url_variable()
        if variable is None:
            continue
        loc: tuple[str | int, ...] = ("apps", index, "egress", position)
        if variable in given:
            found.append(
                f"{key_path(loc)}: sets {variable} as egress[{given[variable]}] does; call one app of this "
                f"name (or set the other URL in env), got {quote(egress.model_dump(exclude_defaults=True))}"
            )
        given.setdefault(variable, position)
        for key, names in (
            ("env", app.env),
            ("generatedSecrets", app.generated_secrets),
            ("secretEnv", app.secret_env),
        ):
            if variable in names:
                found.append(
                    f"{key_path((*loc, 'app'))}: sets {variable} (the URL of {egress.stack}'s {egress.app}), "
                    f"which {key} sets too; one source per variable, got {quote(egress.app)}"
                )
    return found


def _secret_env_problems(app: AppConfig, index: int) -> list[str]:
    """secretEnv names must not collide with env or generatedSecrets; values are never shown."""
    found: list[str] = []
    for key in sorted(app.secret_env):
        others = [
            k for k, names in (("env", app.env), ("generatedSecrets", app.generated_secrets)) if key in names
        ]
        if others:
            found.append(
                f"{key_path(('apps', index, 'secretEnv', key))}: is also in {' and '.join(others)}; one "
                f"source per variable, got a secret value (not shown)"
            )
    return found


def _budget_problems(app: AppConfig, index: int, stack: StackConfig) -> list[str]:
    budget = app.disruption_budget
    loc: tuple[str | int, ...] = ("apps", index, "disruptionBudget")
    both = budget.max_unavailable is not None and budget.min_available is not None
    if both or (budget.max_unavailable is None and budget.min_available is None):
        return [
            f"{key_path(loc)}: set exactly one of maxUnavailable or minAvailable, "
            f"got {quote(budget.model_dump(by_alias=True, exclude_none=True))}"
        ]
    floor = app.replica_floor()
    if floor < 1:
        return []
    key = "maxUnavailable" if budget.max_unavailable is not None else "minAvailable"
    value = budget.max_unavailable if budget.max_unavailable is not None else budget.min_available
    allowed = budget.disruptions_allowed(floor)
    keep = stack.profile.min_available_during_disruption
    if allowed < 1:
        return [
            f"{key_path((*loc, key))}: allows no eviction at the replica floor of {floor}, so node drains "
            f"would block; use maxUnavailable: 1, got {quote(value)}"
        ]
    if floor - allowed < keep:
        return [
            f"{key_path((*loc, key))}: {stack.environment} keeps at least {keep} pod(s) available during "
            f"disruptions, but this allows {allowed} of {floor} to be evicted, got {quote(value)}"
        ]
    return []


def _canary_problems(app: AppConfig, index: int, stack: StackConfig) -> list[str]:
    canary = app.canary
    if canary is None:
        return []
    loc: tuple[str | int, ...] = ("apps", index, "canary")
    shown = quote(canary.model_dump(by_alias=True))
    if app.ingress is None:
        return [
            f"{key_path(loc)}: needs the app's ingress block: traffic is split where it enters, at the "
            f"ingress or the gateway, got {shown}"
        ]
    found = [
        f"{key_path((*loc, 'image'))}: {p}, got {quote(canary.image)}"
        for p in _image_problems(canary.image, stack.profile, stack.environment)
    ]
    if stack.exposure_of(app) == "ingress" and app.ingress.kind == "IngressRoute":
        found.append(
            f"{key_path(loc)}: hastack renders no weighted canary for kind IngressRoute; use kind Ingress "
            f"(className traefik has canary annotations) or exposure: gateway, got {shown}"
        )
    elif stack.exposure_of(app) == "ingress" and stack.ingress is not None:
        controller = ingress_controller_for(stack.ingress.class_name, stack.ingress.controller)
        if controller is not None and controller.canary_annotations is None:
            found.append(
                f"{key_path(loc)}: {controller.name} has no weighted canary mechanism; controllers that have "
                f"one: {', '.join(canary_controllers())}; or set exposure: gateway, got {shown}"
            )
    return found


def _ingress_problems(ingress: AppIngressConfig, index: int, stack: StackConfig) -> list[str]:
    loc: tuple[str | int, ...] = ("apps", index, "ingress")
    app = stack.apps[index]
    exposed = stack.exposure_of(app)
    if (exposed == "gateway" and stack.gateway is None) or (exposed == "ingress" and stack.ingress is None):
        # one line for every app exposed this way (the stack's dedup): the missing key is one mistake
        names = ", ".join(a.name for a in stack.apps if stack.exposure_of(a) == exposed)
        needs, through = (
            ("name and namespace of an existing Gateway", "a gateway")
            if exposed == "gateway"
            else ("className and tls", "an Ingress")
        )
        return [
            f"{key_path((str(exposed),))}: required by the apps exposed through {through} ({names}); "
            f"set {needs}, got nothing"
        ]
    if exposed == "gateway" and stack.gateway is not None:
        controller: Controller | None = GATEWAY_CONTROLLERS_BY_NAME[stack.gateway.implementation]
    elif stack.ingress is None:
        return []
    else:
        controller = ingress_controller_for(stack.ingress.class_name, stack.ingress.controller)
    if controller is None:
        return []  # reported once, on hastack:ingress
    if ingress.kind == "IngressRoute":
        route = ROUTE_CONTROLLERS_BY_NAME.get(controller.name) if exposed == "ingress" else None
        if route is None:
            where = "exposure: gateway" if exposed == "gateway" else f"the {controller.name} controller"
            return [
                f"{key_path((*loc, 'kind'))}: IngressRoute is Traefik's own route; the app is exposed "
                f"through {where}: use kind Ingress, or className traefik, got 'IngressRoute'"
            ]
        controller = route
        health = ingress.backend_health
        if health is not None and "max_ejected_percent" in health.model_fields_set:
            return [
                f"{key_path((*loc, 'backendHealth', 'maxEjectedPercent'))}: {route.name} has no cap on the "
                f"share of backends out at once; remove it (envoy-gateway has one), got "
                f"{health.max_ejected_percent}"
            ]
    limit = None
    if ingress.rate_limit is not None:
        limit = ingress.rate_limit.as_rate_limit()
        if limit.burst is not None and limit.burst < limit.rps:
            return [
                f"{key_path((*loc, 'rateLimit', 'burst'))}: must be at least rps ({limit.rps}), "
                f"got {limit.burst}"
            ]
    found = [
        f"{key_path(loc)}.{problem.key}: {problem.message}, got "
        f"{quote(_lookup(ingress.model_dump(by_alias=True), problem.key))}"
        for problem in controller.problems(ingress.load_balancing, limit, ingress.as_resilience())
    ]
    retries, timeouts = ingress.retries, ingress.timeouts
    if retries and retries.per_try_timeout_seconds and timeouts and timeouts.request_seconds:
        needed = retries.per_try_timeout_seconds * (retries.attempts + 1)
        if needed > timeouts.request_seconds:
            found.append(
                f"{key_path((*loc, 'timeouts', 'requestSeconds'))}: {retries.attempts + 1} tries of "
                f"{retries.per_try_timeout_seconds}s need {needed}s; the request timeout would cut the "
                f"retries short, got {timeouts.request_seconds}"
            )
    return found


def _lookup(tree: Mapping[str, Any], dotted: str) -> Any:
    value: Any = tree
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _stack_ingress_problems(stack: EnvironmentConfig) -> list[str]:
    ingress = stack.ingress
    if ingress is None:
        return []
    found: list[str] = []
    if ingress_controller_for(ingress.class_name, ingress.controller) is None:
        if ingress.controller is not None:
            known = ", ".join(p.name for p in INGRESS_CONTROLLERS)
            found.append(
                f"{key_path(('ingress', 'controller'))}: unknown controller; known: {known}, "
                f"got {quote(ingress.controller)}"
            )
        else:
            known = ", ".join(f"{c} ({p.name})" for p in INGRESS_CONTROLLERS for c in p.class_names)
            close = difflib.get_close_matches(
                ingress.class_name, [c for p in INGRESS_CONTROLLERS for c in p.class_names], n=1
            )
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            found.append(
                f"{key_path(('ingress', 'className'))}: no controller profile for this class{hint}; use one "
                f"of {known} or name the controller with ingress.controller, got {quote(ingress.class_name)}"
            )
    tls = ingress.tls
    loc: tuple[str | int, ...] = ("ingress", "tls")
    if tls.mode not in stack.profile.tls_modes:
        found.append(
            f"{key_path((*loc, 'mode'))}: {stack.environment} allows {', '.join(stack.profile.tls_modes)}, "
            f"got {quote(tls.mode)}"
        )
        return found  # the issuer or secretName that goes with another mode is that choice's to make
    needs = {"cert-manager": "issuer", "secret": "secretName", "self-signed": None}[tls.mode]
    for key, value in (("issuer", tls.issuer), ("secretName", tls.secret_name)):
        if key == needs and value is None:
            found.append(f"{key_path((*loc, key))}: mode {tls.mode} needs {key}, got nothing")
        elif key != needs and value is not None:
            found.append(
                f"{key_path((*loc, key))}: not used by mode {tls.mode}; remove it, got {quote(value)}"
            )
    for key, value in (("issuer", tls.issuer), ("secretName", tls.secret_name)):
        if value is not None and not DNS1123_SUBDOMAIN.match(value):
            found.append(f"{key_path((*loc, key))}: must be a DNS-1123 subdomain, got {quote(value)}")
    return found


def _stack_gateway_problems(stack: EnvironmentConfig) -> list[str]:
    gateway = stack.gateway
    if gateway is None:
        return []
    if gateway.redirect_section_name == gateway.section_name:
        return [
            f"{key_path(('gateway', 'redirectSectionName'))}: must name the plain-HTTP listener, not the "
            f"HTTPS one in sectionName ({gateway.section_name}), or every request would be redirected "
            f"forever, got {quote(gateway.redirect_section_name)}"
        ]
    return []


def _stack_problems(
    stack: StackConfig, focus: AppConfig | None = None, neighbours: Neighbours | None = None
) -> list[str]:
    """Stack-wide rules, plus the per-app rules of every app (or only of `focus`, whose neighbours are
    the stack's other apps unless given)."""
    found = _stack_ingress_problems(stack) + _stack_gateway_problems(stack)
    seen: dict[str, int] = {}
    routes: dict[tuple[str, str], str] = {}
    for index, app in enumerate(stack.apps):
        if app.name in seen:
            found.append(
                f"{key_path(('apps', index, 'name'))}: must be unique in the stack "
                f"(also apps[{seen[app.name]}]), got {quote(app.name)}"
            )
        seen.setdefault(app.name, index)
        if focus is None or app == focus:
            others = (
                neighbours.names
                if neighbours is not None
                else [a.name for a in stack.apps if a.name != app.name]
            )
            found.extend(_app_problems(app, index, stack, [n for n in others if n != app.name]))
        for host in app.ingress.hosts if app.ingress else []:
            for path in app.ingress.paths if app.ingress else []:
                owner = routes.setdefault((host, path), app.name)
                if owner != app.name:
                    found.append(
                        f"{key_path(('apps', index, 'ingress', 'hosts'))}: {host}{path} is already routed to "
                        f"{owner}, got {quote(host)}"
                    )
    return list(dict.fromkeys(found))  # a stack-wide default shared by several apps is reported once


def check(
    stack: StackConfig, source: str, focus: AppConfig | None = None, neighbours: Neighbours | None = None
) -> None:
    """The environment and cross-field rules, for models built from files or in code.

    A component passes its own app as `focus`, so N apps cost N app checks, not N².
    """
    problems = _stack_problems(stack, focus, neighbours)
    if problems:
        raise ConfigError(source, problems)


def check_environment(environment: EnvironmentConfig, source: str) -> None:
    """The stack-wide rules alone: for a namespace, whose apps are checked where they are declared."""
    problems = _stack_ingress_problems(environment) + _stack_gateway_problems(environment)
    if problems:
        raise ConfigError(source, problems)
