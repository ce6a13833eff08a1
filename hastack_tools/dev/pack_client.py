"""Talk to a Pulumi policy pack the way the engine does, without the engine.

Starts the pack as `python -u -m pulumi.policy <engine-address> <pack-dir>` (in the pack's
directory, with PULUMI_PROJECT/STACK/DRY_RUN/CONFIG set), serves the small `Engine` service the
pack logs to, reads the analyzer's port from its first stdout line, then calls GetAnalyzerInfo,
Configure, Analyze and AnalyzeStack over `pulumi.runtime.proto`. The offline gate, the pack's
tests and the benchmark share this module so they all exercise the real protocol.
"""

from __future__ import annotations

import importlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import grpc
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2, engine_pb2_grpc

from hastack.wire import to_wire
from hastack_tools.common.policy_config import PolicyConfigError

if TYPE_CHECKING:
    from hastack_policy.objects import K8sObject

_MAX_MESSAGE = 400 * 1024 * 1024
_GRPC_OPTIONS = [
    ("grpc.max_receive_message_length", _MAX_MESSAGE),
    ("grpc.max_send_message_length", _MAX_MESSAGE),
]

LEVELS = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
    analyzer_pb2.DISABLED: "disabled",
}
LEVEL_VALUES = {name: value for value, name in LEVELS.items()}
SEVERITIES = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}


class AnalyzerError(RuntimeError):
    """The pack could not be started, configured or asked (message says which and why)."""


@dataclass(frozen=True)
class Diagnostic:
    """One violation as the engine would receive it."""

    policy: str
    pack: str
    version: str
    level: str
    severity: str
    description: str
    message: str
    urn: str

    @property
    def detail(self) -> str:
        """The rule's own message (the pack prefixes the policy description and a newline)."""
        head, _, rest = self.message.partition("\n")
        return rest if rest and head == self.description else self.message


@dataclass(frozen=True)
class PolicyInfo:
    """What GetAnalyzerInfo says about one policy."""

    name: str
    description: str
    level: str
    severity: str
    remediation: str
    policy_type: str
    config_schema: dict[str, Any]
    required: tuple[str, ...]
    url: str = ""
    """Where the policy is documented (hastack-ha: its section of policy/README.md)."""


@dataclass(frozen=True)
class AnalyzerInfo:
    name: str
    version: str
    supports_config: bool
    policies: tuple[PolicyInfo, ...]


@dataclass(frozen=True)
class ResourceView:
    """A resource as the engine hands it to analyzers: inputs for Analyze, state for AnalyzeStack."""

    urn: str
    type: str
    name: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]
    parent: str = ""
    dependencies: tuple[str, ...] = ()
    provider_urn: str = ""
    custom: bool = True
    delete_before_replace: bool = False


@dataclass
class EngineLog(engine_pb2_grpc.EngineServicer):
    """The engine's logging endpoint: packs log startup failures here."""

    messages: list[str] = field(default_factory=list)
    echo: bool = True

    def Log(self, request: Any, context: Any) -> empty_pb2.Empty:  # noqa: N802 - gRPC method name
        self.messages.append(request.message)
        if self.echo:
            print(f"policy pack: {request.message}", file=sys.stderr)
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC method name
        return engine_pb2.GetRootResourceResponse(urn="")

    def SetRootResource(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC method name
        return engine_pb2.SetRootResourceResponse()


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(to_wire(props))
    return struct


def _k8s_with_name(view: ResourceView) -> dict[str, Any]:
    """Inputs plus the provider's auto-name: the engine sends provider-checked inputs, which carry it."""
    inputs = dict(view.inputs)
    if view.type.startswith("kubernetes:"):
        metadata = dict(inputs.get("metadata") or {})
        out_name = (
            (view.outputs.get("metadata") or {}).get("name") if isinstance(view.outputs, Mapping) else None
        )
        if not metadata.get("name") and out_name:
            metadata["name"] = out_name
            inputs["metadata"] = metadata
    return inputs


def _options(view: ResourceView) -> Any:
    return analyzer_pb2.AnalyzerResourceOptions(
        parent=view.parent,
        deleteBeforeReplace=view.delete_before_replace,
        deleteBeforeReplaceDefined=view.delete_before_replace,
    )


def _provider(view: ResourceView, by_urn: Mapping[str, ResourceView]) -> Any | None:
    provider = by_urn.get(view.provider_urn)
    if provider is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type=provider.type, name=provider.name, urn=provider.urn, properties=to_struct(provider.inputs)
    )


def stop_plugin(process: subprocess.Popen[bytes]) -> None:
    """Stops a plugin process we started (by handle: terminate, then kill after 10 s) and its pipes."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for pipe in (process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()


class PolicyPackProcess:
    """A running policy pack plus the engine endpoint it talks back to. Use as a context manager."""

    def __init__(
        self,
        pack_dir: Path,
        *,
        project: str,
        stack: str,
        dry_run: bool = False,
        config: Mapping[str, str] | None = None,
        secret_keys: Sequence[str] = (),
        python: str = sys.executable,
        startup_timeout: float = 60.0,
        echo_logs: bool = True,
    ) -> None:
        self.pack_dir = pack_dir.resolve()
        self.project = project
        self.stack = stack
        self.dry_run = dry_run
        self.config = dict(config or {})
        self.secret_keys = list(secret_keys)
        self.python = python
        self.startup_timeout = startup_timeout
        self.engine = EngineLog(echo=echo_logs)
        self._server: grpc.Server | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self.stub: Any = None

    @property
    def pid(self) -> int | None:
        """The pack process id while it runs (for peak-memory readings)."""
        return self._process.pid if self._process is not None else None

    def __enter__(self) -> PolicyPackProcess:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> None:
        """Serves Engine, starts the pack like the engine does and connects to its analyzer port."""
        if not (self.pack_dir / "PulumiPolicy.yaml").exists():
            raise AnalyzerError(f"{self.pack_dir}: no PulumiPolicy.yaml (not a policy pack)")
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), options=_GRPC_OPTIONS)
        engine_pb2_grpc.add_EngineServicer_to_server(self.engine, self._server)
        engine_port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        env = dict(os.environ)
        env.update(
            {
                "PULUMI_PROJECT": self.project,
                "PULUMI_STACK": self.stack,
                "PULUMI_DRY_RUN": "true" if self.dry_run else "false",
                "PULUMI_CONFIG": json.dumps(self.config),
                "PULUMI_CONFIG_SECRET_KEYS": json.dumps(self.secret_keys),
                "PYTHONUNBUFFERED": "1",
            }
        )
        self._process = subprocess.Popen(
            [self.python, "-u", "-m", "pulumi.policy", f"127.0.0.1:{engine_port}", str(self.pack_dir)],
            cwd=self.pack_dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        port = self._read_port()
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=_GRPC_OPTIONS)
        grpc.channel_ready_future(self._channel).result(timeout=self.startup_timeout)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)

    def _read_port(self) -> int:
        assert self._process is not None
        assert self._process.stdout is not None
        lines: queue.Queue[bytes] = queue.Queue()
        stdout = self._process.stdout
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                if self._process.poll() is not None:
                    break
                continue
            text = line.decode(errors="replace").strip()
            if text.isdigit():
                threading.Thread(target=self._drain, daemon=True).start()
                return int(text)
            break
        stderr = b""
        if self._process.poll() is not None and self._process.stderr is not None:
            stderr = self._process.stderr.read()
        logged = "\n".join(self.engine.messages)
        raise AnalyzerError(
            f"policy pack {self.pack_dir} did not print its port within {self.startup_timeout:.0f}s "
            f"(exit code {self._process.poll()}):\n{stderr.decode(errors='replace')}{logged}"
        )

    def _drain(self) -> None:
        """Keeps the pack's pipes from filling up (it prints nothing after the port)."""
        process = self._process
        if process is None or process.stdout is None:
            return
        for _ in iter(process.stdout.readline, b""):
            pass

    def close(self) -> None:
        """Stops the pack process (ours, by handle) and the engine endpoint."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._process is not None:
            stop_plugin(self._process)
            self._process = None
        if self._server is not None:
            self._server.stop(0)
            self._server = None

    # ---- the analyzer protocol -----------------------------------------------------------------

    def info(self) -> AnalyzerInfo:
        """GetAnalyzerInfo, with the version PulumiPolicy.yaml declares (the CLI uses that one)."""
        reply = self.stub.GetAnalyzerInfo(empty_pb2.Empty())
        declared = yaml.safe_load((self.pack_dir / "PulumiPolicy.yaml").read_text()) or {}
        version = str(declared.get("version") or reply.version)
        policies = tuple(
            PolicyInfo(
                name=p.name,
                description=p.description,
                level=LEVELS.get(p.enforcementLevel, "advisory"),
                severity=SEVERITIES.get(p.severity, ""),
                remediation=p.remediation_steps,
                policy_type="stack" if p.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource",
                config_schema=json_format.MessageToDict(p.configSchema.properties),
                required=tuple(p.configSchema.required),
                url=p.url,
            )
            for p in reply.policies
        )
        return AnalyzerInfo(
            name=reply.name, version=version, supports_config=reply.supportsConfig, policies=policies
        )

    def plugin_version(self) -> str:
        return str(self.stub.GetPluginInfo(empty_pb2.Empty()).version)

    def configure_stack(self) -> None:
        """ConfigureStack, as recent engines send it before analysis."""
        request = analyzer_pb2.AnalyzerStackConfigureRequest(
            project=self.project, stack=self.stack, organization="organization", dry_run=self.dry_run
        )
        for key, value in self.config.items():
            request.config[key] = value
        request.config_secret_keys.extend(self.secret_keys)
        self.stub.ConfigureStack(request)

    def configure(self, config: Mapping[str, tuple[str, Mapping[str, Any]]]) -> None:
        """Configure: per policy, (enforcement level, properties)."""
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, (level, properties) in config.items():
            entry = analyzer_pb2.PolicyConfig(enforcementLevel=LEVEL_VALUES[level])
            entry.properties.update(to_wire(dict(properties)))
            request.policyConfig[name].CopyFrom(entry)
        self.stub.Configure(request)

    def analyze(self, views: Sequence[ResourceView]) -> list[Diagnostic]:
        """Analyze for every resource (as registered), then AnalyzeStack over the final states."""
        return self.send(*requests(views))

    def send(self, each: Sequence[Any], stack: Any, *, remediate: bool = False) -> list[Diagnostic]:
        """The engine's calls for requests already built: Analyze for each (after Remediate, as the
        engine asks, when `remediate`; its answers are not applied), then AnalyzeStack."""
        diagnostics: list[Diagnostic] = []
        for request in each:
            if remediate:
                self.stub.Remediate(request)
            diagnostics.extend(_diagnostics(self.stub.Analyze(request), default_urn=request.urn))
        diagnostics.extend(_diagnostics(self.stub.AnalyzeStack(stack), default_urn=""))
        return diagnostics


def requests(views: Sequence[ResourceView]) -> tuple[list[Any], Any]:
    """What the engine sends for a stack: an AnalyzeRequest per resource (as registered) and one
    AnalyzeStackRequest over the final states."""
    by_urn = {v.urn: v for v in views}
    each = []
    for view in views:
        request = analyzer_pb2.AnalyzeRequest(
            type=view.type,
            properties=to_struct(_k8s_with_name(view)),
            urn=view.urn,
            name=view.name,
            options=_options(view),
        )
        provider = _provider(view, by_urn)
        if provider is not None:
            request.provider.CopyFrom(provider)
        each.append(request)
    stack = analyzer_pb2.AnalyzeStackRequest()
    for view in views:
        resource = analyzer_pb2.AnalyzerResource(
            type=view.type,
            properties=to_struct(view.outputs or _k8s_with_name(view)),
            urn=view.urn,
            name=view.name,
            options=_options(view),
            parent=view.parent,
            dependencies=list(view.dependencies),
        )
        provider = _provider(view, by_urn)
        if provider is not None:
            resource.provider.CopyFrom(provider)
        stack.resources.append(resource)
    return each, stack


def _diagnostics(reply: Any, default_urn: str) -> Iterator[Diagnostic]:
    for d in reply.diagnostics:
        yield Diagnostic(
            policy=d.policyName,
            pack=d.policyPackName,
            version=d.policyPackVersion,
            level=LEVELS.get(d.enforcementLevel, "advisory"),
            severity=SEVERITIES.get(d.severity, ""),
            description=d.description,
            message=d.message,
            urn=d.urn or default_urn,
        )


# ---- policy config files (--policy-pack-config) -----------------------------------------------


def resolve_config(
    info: AnalyzerInfo, file_config: Mapping[str, Any], source: str
) -> dict[str, tuple[str, dict[str, Any]]]:
    """What the CLI sends to Configure: every policy's level and properties (schema defaults, then the file).

    Validates like `--policy-pack-config` does: unknown policy names and schema violations are errors.
    """
    jsonschema: Any = importlib.import_module("jsonschema")  # no type stubs in the venv

    names = {p.name for p in info.policies}
    unknown = sorted(set(file_config) - names - {"all"})
    if unknown:
        raise PolicyConfigError(f"{source}: unknown policies {unknown}; known: {sorted(names)}")
    all_level: str | None = None
    if "all" in file_config:
        entry = file_config["all"]
        all_level = entry if isinstance(entry, str) else entry.get("enforcementLevel")
    resolved: dict[str, tuple[str, dict[str, Any]]] = {}
    for policy in info.policies:
        entry = file_config.get(policy.name, {})
        if isinstance(entry, str):
            entry = {"enforcementLevel": entry}
        level = str(entry.get("enforcementLevel") or all_level or policy.level)
        if level not in LEVEL_VALUES:
            raise PolicyConfigError(
                f"{source}: {policy.name}.enforcementLevel {level!r} is not one of {sorted(LEVEL_VALUES)}"
            )
        properties = {
            k: v["default"] for k, v in policy.config_schema.items() if isinstance(v, dict) and "default" in v
        }
        properties.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
        schema = {
            "type": "object",
            "properties": policy.config_schema,
            "required": list(policy.required),
            "additionalProperties": False,
        }
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(properties), key=str)
        if errors:
            where = ".".join(str(p) for p in errors[0].absolute_path)
            raise PolicyConfigError(f"{source}: {policy.name}.{where}: {errors[0].message}")
        resolved[policy.name] = (level, properties)
    return resolved


def load_config_file(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise PolicyConfigError(f"{path}: cannot read policy config: {error}") from error
    if not isinstance(loaded, dict):
        raise PolicyConfigError(f"{path}: policy config must be a JSON object of policy name → settings")
    return loaded


def views_from_records(records: Iterable[Any]) -> list[ResourceView]:
    """ResourceViews from mockrun.RecordedResource records (provider refs are `urn::id`)."""
    return [
        ResourceView(
            urn=r.urn,
            type=r.type,
            name=r.name,
            inputs=r.inputs,
            outputs=r.outputs,
            parent=r.parent,
            dependencies=tuple(r.dependencies),
            provider_urn=_provider_urn(r.provider),
            custom=r.custom,
            delete_before_replace=r.delete_before_replace,
        )
        for r in records
    ]


def objects_from_views(views: Sequence[ResourceView]) -> list[K8sObject]:
    """The Kubernetes resources as the pack's rules see them after the analyzer's decoding (numbers as
    floats, auto-names filled in, the explicit provider's namespace), for in-process evaluation."""
    from hastack_policy.objects import K8sObject

    by_urn = {view.urn: view for view in views}
    objects = []
    for view in views:
        if not view.type.startswith("kubernetes:"):
            continue
        provider = by_urn.get(view.provider_urn)
        explicit = provider is not None and provider.type.startswith("pulumi:providers:kubernetes")
        namespace = provider.inputs.get("namespace") if provider is not None and explicit else None
        objects.append(
            K8sObject(
                type=view.type,
                urn=view.urn,
                name=view.name,
                props=to_wire(_k8s_with_name(view)),
                provider_namespace=namespace if isinstance(namespace, str) and namespace else None,
            )
        )
    return objects


def _provider_urn(reference: str) -> str:
    """A provider reference is `<urn>::<id>`; URNs themselves contain `::`, so split at the last one."""
    return reference.rsplit("::", 1)[0] if reference else ""
