"""The arguments of HighlyAvailableApp(name, args, opts): typed, Input-accepting, checked by the models.

Keys are the stack file's camelCase keys, so the dict is handed to the pydantic models in
hastack.config as it is (a key this module does not type, e.g. one a newer AppConfig accepts, still
reaches the model). Plain leaves are validated at construction; errors name the argument path
(`args.autoscaling.minReplicas: prod needs at least 3 replicas, got 2`). The leaves a user computes
(image, env values, ingress hosts, replicas) may be Outputs: they are validated with the same
rules when they resolve, and the resources take the validated value.
"""

import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

import pulumi
from pydantic.alias_generators import to_snake

from hastack.config import (
    ENVIRONMENTS,
    AppConfig,
    CallConfig,
    ConfigError,
    EnvironmentConfig,
    Neighbours,
    StackConfig,
    parse,
    validate,
    validate_environment,
)
from hastack.config.errors import count


class TlsArgs(TypedDict):
    """Where the Ingress certificate comes from: cert-manager (issuer), secret (secretName), self-signed."""

    mode: str
    issuer: NotRequired[str]
    secretName: NotRequired[str]


class IngressClassArgs(TypedDict):
    """The cluster's ingress controller (by class) and the certificate source."""

    className: str
    tls: TlsArgs
    controller: NotRequired[str]
    controllerNamespace: NotRequired[str]
    awaitLoadBalancer: NotRequired[bool]


class GatewayArgs(TypedDict):
    """An existing Gateway (Gateway API) the app's HTTPRoutes attach to."""

    name: str
    namespace: NotRequired[str]
    sectionName: NotRequired[str]
    redirectSectionName: NotRequired[str]
    implementation: NotRequired[str]
    proxyNamespace: NotRequired[str]


class EnvironmentArgs(TypedDict):
    """The environment profile (dev, staging or prod floors) and the cluster's shared entry points."""

    name: str
    ingress: NotRequired[IngressClassArgs]
    gateway: NotRequired[GatewayArgs]
    exposure: NotRequired[str]
    clusterDomain: NotRequired[str]


class AutoscalingArgs(TypedDict):
    minReplicas: int
    maxReplicas: int
    targetCPUUtilization: NotRequired[int]
    targetMemoryUtilization: NotRequired[int]
    scaleDownStabilizationSeconds: NotRequired[int]


class RateLimitArgs(TypedDict):
    rps: int
    burst: NotRequired[int]
    connections: NotRequired[int]


class BackendHealthArgs(TypedDict, total=False):
    """Passive health checking: a backend leaves the rotation after errors in a row, for a while."""

    consecutiveErrors: int
    ejectionSeconds: int
    maxEjectedPercent: int


class RetriesArgs(TypedDict):
    """Retry a failed request on another backend, on the listed conditions."""

    attempts: int
    conditions: NotRequired[list[str]]
    perTryTimeoutSeconds: NotRequired[int]


class TimeoutsArgs(TypedDict, total=False):
    """How long the proxy waits for a backend: to connect, for a whole request, between two reads."""

    connectSeconds: int
    requestSeconds: int
    readSeconds: int


class AppIngressArgs(TypedDict):
    """Public exposure: hosts (each may be computed, e.g. from a DNS record), paths, balancing."""

    hosts: list[pulumi.Input[str]]
    paths: NotRequired[list[str]]
    kind: NotRequired[str]
    loadBalancing: NotRequired[str]
    rateLimit: NotRequired[RateLimitArgs]
    backendHealth: NotRequired[BackendHealthArgs]
    retries: NotRequired[RetriesArgs]
    timeouts: NotRequired[TimeoutsArgs]


class QuantitiesArgs(TypedDict, total=False):
    cpu: str
    memory: str
    ephemeralStorage: str


class ResourcesArgs(TypedDict, total=False):
    requests: QuantitiesArgs
    limits: QuantitiesArgs


class ProbeArgs(TypedDict):
    path: str
    initialDelaySeconds: NotRequired[int]
    periodSeconds: NotRequired[int]
    timeoutSeconds: NotRequired[int]
    failureThreshold: NotRequired[int]


class ProbesArgs(TypedDict, total=False):
    readiness: ProbeArgs
    liveness: ProbeArgs
    startup: ProbeArgs


class DisruptionBudgetArgs(TypedDict, total=False):
    """Exactly one of the two: a count or a percentage such as "25%"."""

    maxUnavailable: Any
    minAvailable: Any


class CanaryArgs(TypedDict):
    image: str
    weight: int


class ShutdownArgs(TypedDict, total=False):
    preStopSeconds: int
    terminationGracePeriodSeconds: int


class EgressPortArgs(TypedDict):
    port: int
    protocol: NotRequired[str]


EgressArgs = TypedDict(
    "EgressArgs",
    {
        "cidr": NotRequired[str],
        "except": NotRequired[list[str]],
        "namespaceLabels": NotRequired[dict[str, str]],
        "podLabels": NotRequired[dict[str, str]],
        "app": NotRequired[str],
        "stack": NotRequired[str],
        "ports": NotRequired[list[EgressPortArgs]],
        "reason": NotRequired[str],
    },
)
"""One egress allowance: a CIDR block, pods/namespaces by labels, an app in `calls`, or an app of another
stack (`stack` and `app`); with ports."""


class StackAppArgs(TypedDict):
    """An app of another stack of the project (a caller `allowFromStacks` admits)."""

    stack: str
    app: str


class CallArgs(TypedDict):
    """Another app of the namespace that this one calls (its allowFrom names this app)."""

    name: str
    port: int


class AppArgs(TypedDict):
    """One app's own keys: a stack file's `apps[]` entry without its name (the resource name gives it).
    Key for key the config model's (hastack.config.AppConfig; tests/hastack/test_args_shape.py)."""

    image: pulumi.Input[str]
    port: int
    replicas: NotRequired[pulumi.Input[int]]
    autoscaling: NotRequired[AutoscalingArgs]
    resources: NotRequired[ResourcesArgs]
    probes: NotRequired[ProbesArgs]
    disruptionBudget: NotRequired[DisruptionBudgetArgs]
    ingress: NotRequired[AppIngressArgs]
    exposure: NotRequired[str]
    canary: NotRequired[CanaryArgs]
    env: NotRequired[dict[str, pulumi.Input[str]]]
    generatedSecrets: NotRequired[list[str]]
    allowFrom: NotRequired[list[str]]
    allowFromStacks: NotRequired[list[StackAppArgs]]
    runAsUser: NotRequired[int]
    shutdown: NotRequired[ShutdownArgs]
    egress: NotRequired[list[EgressArgs]]
    secretEnv: NotRequired[dict[str, pulumi.Input[str]]]
    """Stack secrets: each value (plain or Output) is made secret and reaches the pod only through
    the app's Secret. A secret Output in `env` is refused: it would land in the ConfigMap."""
    secretsAs: NotRequired[str]
    priorityClassName: NotRequired[pulumi.Input[str]]
    """The pods' PriorityClass; may be the name of one the program creates (an Output)."""


class HighlyAvailableAppArgs(AppArgs):
    """One app; the resource name is the app's name. Defaults are those of the stack-file reference."""

    environment: EnvironmentArgs
    namespace: pulumi.Input[str]
    calls: NotRequired[list[CallArgs]]
    """Opens egress to these apps' ports (AppGroup derives it from their allowFrom)."""


class IsolatedNamespaceArgs(TypedDict):
    """A namespace for apps: its name and the environment profile its apps follow (the same
    `environment` the apps take, so one dict serves both)."""

    environment: EnvironmentArgs
    namespace: str


class GroupAppArgs(AppArgs):
    """One app of an AppGroup: its name and its own keys (a stack file's `apps[]` entry)."""

    name: str


class AppGroupArgs(TypedDict):
    """Apps sharing one isolated namespace; each app another one admits (allowFrom) may call it."""

    environment: EnvironmentArgs
    namespace: str
    apps: list[GroupAppArgs]


class ArgumentError(ConfigError):
    """Invalid component arguments; each problem names its path under `args`."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(source, problems)
        lines = "\n".join(f"  {source}: {problem}" for problem in problems)
        self.args = (f"invalid arguments ({count(len(problems), 'problem')}):\n{lines}",)

    def __str__(self) -> str:
        return str(self.args[0])


Path = tuple[str | int, ...]

_PLACEHOLDER_DIGEST = "@sha256:" + "0" * 64
_NAMESPACE_PLACEHOLDER = "computed-namespace"
_PATHS = [
    (re.compile(r"^hastack:apps\[0\]"), "args"),
    (re.compile(r"^hastack:calls\b"), "args.calls"),
    (re.compile(r"^hastack:namespace\b"), "args.namespace"),
    (re.compile(r"^hastack:environment\b"), "args.environment.name"),
    (re.compile(r"^hastack:"), "args.environment."),
]
"""Stack-file key paths as argument paths: the app is apps[0], stack-wide keys sit under environment."""


def _argument_path(problem: str) -> str:
    """`hastack:apps[0].image: ...` -> `args.image: ...`; stack-wide keys -> `args.environment.<key>`."""
    for pattern, replacement in _PATHS:
        if pattern.match(problem):
            return pattern.sub(replacement, problem, count=1)
    return problem


def _is_computed(value: object) -> bool:
    return isinstance(value, pulumi.Output) or inspect.isawaitable(value)


def _placeholder(path: Path, index: int) -> object:
    """A value that passes every rule for its leaf, so the plain leaves around it can be checked now."""
    if path == ("image",):
        return f"computed-image{_PLACEHOLDER_DIGEST}"
    if path[:2] == ("ingress", "hosts"):
        return f"computed-{index}.hastack.invalid"
    if path == ("priorityClassName",):
        return "computed-priority-class"
    return ""


def _computed_paths(raw: Mapping[str, Any]) -> list[Path]:
    """Where the user-computable leaves are: image, replicas, priorityClassName, env and secretEnv
    values, ingress hosts."""
    paths: list[Path] = [(key,) for key in ("image", "replicas", "priorityClassName") if key in raw]
    for key in ("env", "secretEnv"):
        values = raw.get(key)
        if isinstance(values, Mapping):
            paths.extend((key, name) for name in values)
    ingress = raw.get("ingress")
    if isinstance(ingress, Mapping) and isinstance(ingress.get("hosts"), list):
        paths.extend(("ingress", "hosts", i) for i in range(len(ingress["hosts"])))
    return paths


def _get(tree: Any, path: Path) -> Any:
    for part in path:
        tree = tree[part]
    return tree


def _set(tree: Any, path: Path, value: Any) -> None:
    _get(tree, path[:-1])[path[-1]] = value


def _copy(tree: Any) -> Any:
    """A copy of the containers of an argument tree (leaves, Outputs included, are shared)."""
    if isinstance(tree, Mapping):
        return {key: _copy(value) for key, value in tree.items()}
    if isinstance(tree, list | tuple):
        return [_copy(value) for value in tree]
    return tree


@dataclass(frozen=True)
class ResolvedArgs:
    """The app as the builders take it, in the environment and among the neighbours its rules were
    checked with.

    In `app`, a computed leaf is an Output of its validated value (it resolves, or fails naming
    its argument path); every other leaf is the plain validated value.
    """

    app: AppConfig
    environment: EnvironmentConfig
    neighbours: Neighbours
    namespace: pulumi.Input[str]
    source: str = ""
    """What errors about the app name: its stack file, or its component (`HighlyAvailableApp(<name>)`)."""
    where: str = "args"
    """The app's key path there (`hastack:apps[1]`, `args`), for errors known only at run time."""


def _environment_tree(environment: Mapping[str, Any], namespace: Any) -> dict[str, Any]:
    """The `environment` argument ({name, ingress, ...}) and the namespace as a stack file's keys."""
    keys = dict(environment)
    return {"environment": keys.pop("name", None), "namespace": namespace, **keys}


def _neighbours(name: str, raw_app: Mapping[str, Any], calls: list[Any], source: str) -> Neighbours:
    """Who calls the app (the names in its allowFrom) and whom it calls (`calls`, each checked as a
    name and an app's port); raises ArgumentError naming `args.calls[i]`."""
    problems: list[str] = []
    callees: list[CallConfig] = []
    for index, call in enumerate(calls):
        try:
            callees.append(parse(CallConfig, call, source, ("calls", index)))
        except ConfigError as error:
            problems.extend(_argument_path(p) for p in error.problems)
    if problems:
        raise ArgumentError(source, problems)
    allowed = raw_app.get("allowFrom")
    callers = [p for p in allowed if isinstance(p, str) and p != name] if isinstance(allowed, list) else []
    return Neighbours(callers=tuple(dict.fromkeys(callers)), callees=tuple(callees))


def _check(
    raw_app: dict[str, Any],
    neighbours: Neighbours,
    environment: Mapping[str, Any],
    namespace: Any,
    source: str,
) -> StackConfig:
    """The app in its environment, checked by the stack models and rules with its neighbours known by
    name (a component knows no more of them); the builders take the returned config as the app's
    context (environment floors, exposure)."""
    raw = {**_environment_tree(environment, namespace), "apps": [raw_app]}
    try:
        return validate(raw, source, neighbours=neighbours)
    except ConfigError as error:
        raise ArgumentError(source, [_argument_path(p) for p in error.problems]) from None


def _environment_argument(source: str, given: Mapping[str, Any]) -> Mapping[str, Any]:
    environment = given["environment"]
    if not isinstance(environment, Mapping):
        raise ArgumentError(
            source,
            [f"args.environment: must be an object with name (dev, staging or prod), got {environment!r}"],
        )
    return environment


def check_namespace(source: str, args: IsolatedNamespaceArgs | Mapping[str, Any]) -> EnvironmentConfig:
    """The environment and namespace arguments, checked by the environment model and the stack-wide
    rules; errors name `args.environment…`/`args.namespace`."""
    given = dict(args)
    missing = [
        f"args.{key}: required argument is missing"
        for key in ("environment", "namespace")
        if key not in given
    ]
    unknown = [
        f"args.{key}: unknown argument; allowed: environment, namespace"
        for key in given
        if key not in ("environment", "namespace")
    ]
    if missing or unknown:
        raise ArgumentError(source, missing + unknown)
    environment = _environment_argument(source, given)
    if _is_computed(given["namespace"]):
        raise ArgumentError(
            source, ["args.namespace: must be a plain name (it names the Namespace), got a computed value"]
        )
    try:
        return validate_environment(_environment_tree(environment, given["namespace"]), source)
    except ConfigError as error:
        raise ArgumentError(source, [_argument_path(p) for p in error.problems]) from None


def _refuse_secret(output: pulumi.Output[Any], source: str, path: Path) -> pulumi.Output[Any]:
    """`output`, failing the program if it is secret: an env value goes to the ConfigMap in plain text."""

    async def plain_only() -> None:
        if await output.is_secret():
            where = "args." + ".".join(str(part) for part in path)
            raise ArgumentError(
                source,
                [
                    f"{where}: is a secret Output; pass it in secretEnv so it reaches the pod only "
                    f"through the app's Secret, got a secret value (not shown)"
                ],
            )

    guard: pulumi.Output[None] = pulumi.Output.from_input(plain_only())
    return pulumi.Output.all(output, guard).apply(lambda both: both[0])


def secret_inputs(app: AppConfig, **updates: Any) -> AppConfig:
    """The app with every stack secret (`secretEnv` value, plain or computed) made a secret Output,
    so no later step can use one in plain text."""
    secret_env = updates.pop("secret_env", app.secret_env)
    updates["secret_env"] = {key: pulumi.Output.secret(value) for key, value in secret_env.items()}
    # model_copy does not validate: the Outputs stand where the plain, already checked values were.
    return app.model_copy(update=updates)


def resolve(name: str, args: HighlyAvailableAppArgs | Mapping[str, Any]) -> ResolvedArgs:
    """Checks the plain leaves now (raising ArgumentError) and wires each computed leaf to its check."""
    source = f"HighlyAvailableApp({name})"
    given = _copy(dict(args))
    for key in ("environment", "namespace"):
        if key not in given:
            raise ArgumentError(source, [f"args.{key}: required argument is missing"])
    environment = _environment_argument(source, given)
    given.pop("environment")
    namespace = given.pop("namespace")
    calls = list(given.pop("calls", []))
    plain_namespace = _NAMESPACE_PLACEHOLDER if _is_computed(namespace) else namespace
    raw = {"name": name, **given}
    computed = {path: _get(raw, path) for path in _computed_paths(raw) if _is_computed(_get(raw, path))}
    checked = _copy(raw)
    for index, path in enumerate(computed):
        _set(checked, path, _placeholder(path, index))
    if ("replicas",) in computed:
        profile = ENVIRONMENTS.get(str(environment.get("name")))
        checked["replicas"] = profile.min_replicas if profile is not None else 1
    try:
        neighbours = _neighbours(name, raw, calls, source)
    except ArgumentError as error:
        call_problems, neighbours = error.problems, _neighbours(name, raw, [], source)
    else:
        call_problems = []
    try:
        stack = _check(checked, neighbours, environment, plain_namespace, source)
    except ArgumentError as error:
        raise ArgumentError(source, [*error.problems, *call_problems]) from None
    if call_problems:
        raise ArgumentError(source, call_problems)

    def leaf_check(path: Path) -> Any:
        def check(value: Any) -> Any:
            probe = _copy(checked)
            _set(probe, path, value)
            _check(probe, neighbours, environment, plain_namespace, source)
            return value

        return check

    app = stack.apps[0]
    updates: dict[str, Any] = {}
    env: dict[str, Any] = dict(app.env)
    secret_env: dict[str, Any] = dict(app.secret_env)
    hosts: list[Any] = list(app.ingress.hosts) if app.ingress is not None else []
    for path, value in computed.items():
        output = pulumi.Output.from_input(value).apply(leaf_check(path))
        if path[0] == "env":
            env[str(path[1])] = _refuse_secret(output, source, path)
        elif path[0] == "secretEnv":
            secret_env[str(path[1])] = output
        elif path[0] == "ingress":
            hosts[int(path[2])] = output
        else:
            updates[to_snake(str(path[0]))] = output
    if app.ingress is not None:
        updates["ingress"] = app.ingress.model_copy(update={"hosts": hosts})
    return ResolvedArgs(
        secret_inputs(app, env=env, secret_env=secret_env, **updates), stack, neighbours, namespace, source
    )
