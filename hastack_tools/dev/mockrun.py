"""Run a Pulumi Python program under Pulumi's mocks and record every registered resource.

The record is what the engine would receive: type token, URN, parent and the resolved inputs.
`make render` and the offline policy gate both build on it, so they see the same program run.
"""

from __future__ import annotations

import contextvars
import hashlib
import os
import runpy
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime.proto import resource_pb2

from hastack.config.errors import SECRET_STAND_IN
from hastack.pulumi_internals import private, sdk_patches
from hastack.pulumi_internals.gc_tuning import tuned_gc
from hastack_tools.common.project import engine_config, read_project
from hastack_tools.dev.k8s_provider import KubernetesProvider, ProviderUnavailableError
from hastack_tools.dev.kube_version import KubeVersion, control_plane_version
from hastack_tools.dev.offline_answers import answering_offline, note

SECRET_PLACEHOLDER = SECRET_STAND_IN
"""Stands in for every value the program marked secret, wherever it appears in a record, and for
every `secure:` config value (not decrypted offline)."""

_K8S_PROVIDER_TYPE = "pulumi:providers:kubernetes"
_STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
_READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"

INVOKE_COMPONENTS = {
    "kubernetes:yaml:decode": ("kubernetes:yaml:ConfigFile", "kubernetes:yaml:ConfigGroup"),
    "kubernetes:helm:template": ("kubernetes:helm.sh/v3:Chart",),
    "kubernetes:kustomize:directory": ("kubernetes:kustomize:Directory",),
}
"""The SDK components whose objects come from a provider invoke, by the invoke's token."""


def sdk_output_mismatches(type_token: str) -> dict[str, tuple[str, str]]:
    """Outputs of a remote component that the installed pulumi-kubernetes Python SDK declares as a
    string although the provider sends a list: output name -> (the wire kind the SDK expects, why)."""
    if type_token != "kubernetes:kustomize/v2:Directory":
        return {}
    from pulumi_kubernetes.kustomize.v2 import Directory

    declared = str(Directory.resources.fget.__annotations__.get("return", ""))
    if "str" not in declared:
        return {}  # a fixed SDK (pulumi-kubernetes#4295): nothing to leave out
    return {
        "resources": (
            "string_value",
            f"the installed SDK declares Directory.resources {declared} while the provider sends the list "
            "of its objects, so the program would fail after registering them (pulumi-kubernetes#3389, "
            "fixed upstream by #4295); its objects are evaluated",
        )
    }


OPAQUE_TYPES = {
    "kubernetes:helm.sh/v3:Release": (
        "a Helm release is templated and installed inside the provider: its objects are never "
        "registered, so no policy (offline or in the engine) sees them; use helm.v4.Chart"
    ),
}
"""Resources whose Kubernetes objects no analyzer can see, with why."""


@dataclass(frozen=True)
class RecordedResource:
    """One RegisterResource call as the engine would see it (inputs resolved, secrets marked)."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    provider: str = ""
    dependencies: tuple[str, ...] = ()  # sorted: the SDK sends a set, in no stable order
    delete_before_replace: bool = False
    secret_paths: tuple[tuple[str | int, ...], ...] = ()


@dataclass
class MockRun:
    """The outcome of one program run under mocks."""

    project: str
    stack: str
    resources: list[RecordedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    not_evaluated: list[str] = field(default_factory=list)
    not_evaluated_reasons: dict[str, str] = field(default_factory=dict)
    """Why each `not_evaluated` entry (`type::name`) could not be looked inside."""
    kube_version: KubeVersion | None = None
    """The Kubernetes version charts were rendered for."""
    notes: list[str] = field(default_factory=list)
    """What the run did differently from the engine, and why (one line each)."""

    def by_type(self, type_token: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_token]


def _suffix(urn: str) -> str:
    """A stable stand-in for the provider's random auto-name suffix, so renders are reproducible."""
    return hashlib.sha256(urn.encode()).hexdigest()[:8]


def is_secret(value: Any) -> bool:
    return private.is_secret(value)


def secret_paths(value: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Yields the path of every secret-marked value inside a deserialized property tree."""
    if is_secret(value):
        yield prefix
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from secret_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from secret_paths(item, (*prefix, index))


def strip_secrets(value: Any, placeholder: str | None = SECRET_PLACEHOLDER) -> Any:
    """Replaces secret-marked values with a placeholder (or unwraps them when placeholder is None)."""
    if is_secret(value):
        return placeholder if placeholder is not None else strip_secrets(private.unwrap_secret(value), None)
    if isinstance(value, dict):
        return {k: strip_secrets(v, placeholder) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_secrets(v, placeholder) for v in value]
    return value


class RecordingMocks(private.Mocks):
    """Answers like the providers would for the resources hastack uses, deterministically."""

    def __init__(self, stack_outputs: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._in_flight = threading.local()
        """Per thread: the SDK registers from several executor threads at once."""
        self.stack_outputs = dict(stack_outputs or {})
        """Other stacks' outputs by fully qualified name, for the program's stack references."""

    @property
    def secret_outputs(self) -> list[str]:
        """additionalSecretOutputs of this thread's registration in flight; the engine, not the SDK,
        applies them."""
        return list(getattr(self._in_flight, "secret_outputs", ()))

    @secret_outputs.setter
    def secret_outputs(self, keys: list[str]) -> None:
        self._in_flight.secret_outputs = list(keys)

    def taken_inputs(self) -> dict[str, Any] | None:
        """The inputs this thread's registration in flight was answered for (decoded once, by the
        SDK's mock monitor), handed over once; None when there were none."""
        inputs: dict[str, Any] | None = getattr(self._in_flight, "inputs", None)
        self._in_flight.inputs = None
        return inputs

    def new_resource(self, args: private.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self._in_flight.inputs = args.inputs  # _answer copies before changing anything
        resource_id, state = self._answer(args)
        for key in self.secret_outputs:
            if key in state and not is_secret(state[key]):
                state[key] = private.marked_secret(state[key])
        return resource_id, state

    def _answer(self, args: private.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        urn_key = f"{args.typ}::{args.name}"
        if args.typ.startswith("kubernetes:") and args.typ != _K8S_PROVIDER_TYPE:
            metadata = dict(state.get("metadata") or {})
            if not metadata.get("name"):
                metadata["name"] = f"{args.name}-{_suffix(urn_key)}"
            state["metadata"] = metadata
            return metadata["name"], state
        if args.typ == _STACK_REFERENCE_TYPE:
            name = str(state.get("name"))
            state.update(self._stack(name))
            return name, state
        if args.typ == "random:index/randomPassword:RandomPassword":
            state["result"] = (
                "mock-"
                + hashlib.sha256(("pw" + urn_key).encode()).hexdigest()[: int(state.get("length", 32)) - 5]
            )
            state["bcryptHash"] = "$2a$10$" + hashlib.sha256(urn_key.encode()).hexdigest()
        elif args.typ == "tls:index/privateKey:PrivateKey":
            digest = hashlib.sha256(urn_key.encode()).hexdigest()
            state["privateKeyPem"] = f"-----BEGIN PRIVATE KEY-----\nmock{digest}\n-----END PRIVATE KEY-----\n"
            state["publicKeyPem"] = f"-----BEGIN PUBLIC KEY-----\nmock{digest}\n-----END PUBLIC KEY-----\n"
        elif args.typ == "tls:index/selfSignedCert:SelfSignedCert":
            digest = hashlib.sha256(urn_key.encode()).hexdigest()
            state["certPem"] = f"-----BEGIN CERTIFICATE-----\nmock{digest}\n-----END CERTIFICATE-----\n"
        return f"{args.name}-{_suffix(urn_key)}", state

    def call(self, args: private.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == _READ_STACK_OUTPUTS:
            name = str(args.args.get("name"))
            try:
                return {**self._stack(name), "name": name}, []
            except LookupError as error:  # as the engine answers a stack it does not hold: a failure
                return {}, [("name", str(error))]
        return {}, []

    def _stack(self, name: str) -> dict[str, Any]:
        """A stack reference's answer: the outputs given for `name`; any other stack is not there."""
        if name not in self.stack_outputs:
            raise LookupError(f"an offline run reads no other stack, and was given no outputs of {name}")
        return {"outputs": dict(self.stack_outputs[name]), "secretOutputNames": []}


RESPONSES_SWITCH = "HASTACK_MOCK_RESPONSES"
"""Environment variable: `stock` answers every registration the way the SDK's mock monitor does
(the whole state encoded again); anything else copies what did not change from the request."""

_UNKNOWN_BYTES = private.UNKNOWN.encode()


def copies_unchanged_inputs(environ: dict[str, str] | None = None) -> bool:
    """Whether registrations are answered by copying their request (the default; see RESPONSES_SWITCH)."""
    return (os.environ if environ is None else environ).get(RESPONSES_SWITCH, "").strip().lower() != "stock"


class RecordingMonitor(private.MockMonitor):
    """A mock monitor that keeps what each RegisterResource call carried, in order."""

    def __init__(self, mocks: RecordingMocks, *, copy_unchanged_inputs: bool | None = None) -> None:
        super().__init__(mocks)
        self.copy_unchanged_inputs = (
            copies_unchanged_inputs() if copy_unchanged_inputs is None else copy_unchanged_inputs
        )
        """Answer from the request's own Struct where the state kept an input (see `_answer_copying`)."""
        self.recording_mocks = mocks
        self.recorded: list[RecordedResource] = []
        self.stack_outputs: dict[str, Any] = {}
        self._stack_urn = ""
        self.kubernetes: KubernetesProvider | None = None
        """Answers the kubernetes invokes and constructs its remote components (set by run_function)."""
        self.unseen: dict[str, str] = {}
        """`type::name` -> why its contents could not be evaluated."""
        self._unanswered: dict[str, str] = {}
        """Invoke token -> why the provider could not answer it."""
        self.notes: list[str] = []
        """What this run did differently from the engine (see MockRun.notes)."""

    def Invoke(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.tok.startswith("kubernetes:") and self.kubernetes is not None:
            try:
                return self.kubernetes.invoke(request)
            except ProviderUnavailableError as error:
                self._unanswered.setdefault(request.tok, str(error))
                return resource_pb2.ResourceInvokeResponse()
        return super().Invoke(request)

    def _answer_component(self, request: Any, response: Any) -> Any:
        """The provider's answer for a remote component, less the outputs the installed SDK declares
        with a type the provider does not send (the SDK would fail resolving them after the children
        are registered, as it does under the engine); each left out is told in `notes`."""
        for name, (declared, why) in sdk_output_mismatches(request.type).items():
            if name in response.object.fields and response.object.fields[name].WhichOneof("kind") != declared:
                del response.object[name]
                self.notes.append(
                    f"{request.type} {request.name!r}: output {name!r} left out of the component's "
                    f"answer: {why}"
                )
        return response

    def _construct(self, request: Any) -> Any | None:
        """A remote component built by its provider (children recorded), or None (then opaque, listed)."""
        key = f"{request.type}::{request.name}"
        if not request.type.startswith("kubernetes:") or self.kubernetes is None:
            package = request.type.split(":", 1)[0]
            self.unseen[key] = (
                f"a component of package {package!r} built by its provider (remote), which the offline run "
                "does not start: its children are unknown"
            )
            return None
        try:
            return self._answer_component(request, self.kubernetes.construct(request))
        except (ProviderUnavailableError, RuntimeError) as error:
            self.unseen[key] = f"its children are built by the kubernetes provider, which could not: {error}"
            return None

    def not_evaluated(self) -> dict[str, str]:
        """Every recorded resource whose Kubernetes objects stayed out of sight, with why."""
        unseen = dict(self.unseen)
        parents = {r.parent for r in self.recorded}
        for token, reason in self._unanswered.items():
            for resource in self.recorded:
                if resource.type in INVOKE_COMPONENTS.get(token, ()) and resource.urn not in parents:
                    unseen.setdefault(
                        f"{resource.type}::{resource.name}",
                        f"its objects come from the kubernetes provider ({token}), "
                        f"which is unavailable: {reason}",
                    )
        for resource in self.recorded:
            if resource.type in OPAQUE_TYPES:
                unseen.setdefault(f"{resource.type}::{resource.name}", OPAQUE_TYPES[resource.type])
        return unseen

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.remote:
            constructed = self._construct(request)
            if constructed is not None:
                return constructed
        self.recording_mocks.secret_outputs = list(request.additionalSecretOutputs)
        self.recording_mocks.taken_inputs()  # nothing left over from an earlier call on this thread
        if self._may_copy(request):
            response = self._answer_copying(request)
        else:
            response = super().RegisterResource(request)
        if request.remote and request.type.startswith("kubernetes:"):
            response.object.update({"resources": []})  # not built (listed as not evaluated): no children
        if request.type == "pulumi:pulumi:Stack":
            self._stack_urn = response.urn
            return response
        inputs = self.recording_mocks.taken_inputs()
        if inputs is None:
            inputs = private.deserialize_properties(request.object)
        registration = self.resources[response.urn]
        self.recorded.append(
            RecordedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent,
                inputs=inputs,
                outputs=dict(registration.state),
                provider=request.provider,
                dependencies=tuple(sorted(request.dependencies)),
                delete_before_replace=bool(request.deleteBeforeReplace),
                secret_paths=tuple(secret_paths(inputs)),
            )
        )
        return response

    def _may_copy(self, request: Any) -> bool:
        """A preview's unknown inputs: those requests (and the stack's) take the SDK monitor's path, so
        both answer alike whatever it makes of them."""
        return (
            self.copy_unchanged_inputs
            and request.type != "pulumi:pulumi:Stack"
            and _UNKNOWN_BYTES not in request.object.SerializeToString()
        )

    def _answer_copying(self, request: Any) -> Any:
        """What `MockMonitor.RegisterResource` answers, without encoding the whole state again: the SDK's
        monitor decodes the inputs, asks the mocks, then encodes the state (inputs plus a few fields)
        back to a Struct, a tenth of a render. Here the request's Struct is copied and only the fields
        the mocks added or replaced are encoded (tests/tools/dev/test_mockrun.py compares both). A
        value counts as kept when it is the very input object: mocks replace, never edit in place
        (`RecordingMocks._answer` copies `metadata` before naming it)."""
        urn = self.make_urn(request.parent, request.type, request.name)
        private.ensure_event_loop()
        inputs = private.deserialize_properties(request.object)
        given_id, state = self.mocks.new_resource(private.mock_resource_args(request, inputs))
        resource_id = given_id or ""  # the wire's unset id, as the SDK's monitor sends None
        answer = struct_pb2.Struct()
        answer.CopyFrom(request.object)
        for key in inputs.keys() - state.keys():
            del answer[key]
        changed = {
            key: value for key, value in state.items() if key not in inputs or value is not inputs[key]
        }
        encoded = private.serialize_properties_now(changed) if changed else struct_pb2.Struct()
        for key in changed:
            if key in encoded.fields:
                answer.fields[key].CopyFrom(encoded.fields[key])
            elif key in answer.fields:
                del answer[key]  # encoded as nothing (None), as the SDK's monitor leaves it out
        self.resources[urn] = private.MockMonitor.ResourceRegistration(urn, resource_id, state)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=answer)

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.urn == self._stack_urn:
            self.stack_outputs = private.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)


def run_function(
    program: Callable[[], Any],
    *,
    project: str = "project",
    stack: str = "stack",
    config: dict[str, str] | None = None,
    secret_keys: list[str] | None = None,
    preview: bool = False,
    kube_version: KubeVersion | None = None,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
) -> MockRun:
    """Runs `program` as a Pulumi program under mocks, in a fresh runtime context, and records it;
    charts are rendered for `kube_version` (default: the local control plane's); a stack reference
    reads `stack_outputs` (by fully qualified name, `organization/<project>/<stack>`), and fails
    for any other stack."""
    version = kube_version or control_plane_version()
    sdk_patches.install()  # as the program does for real runs (HASTACK_SDK_PATCHES=0: off)

    def _run() -> MockRun:
        monitor = RecordingMonitor(RecordingMocks(stack_outputs))
        monitor.kubernetes = KubernetesProvider(
            monitor,
            project=project,
            stack=stack,
            config=config or {},
            secret_keys=list(secret_keys or []),
            dry_run=preview,
            kube_version=version,
        )
        try:
            with tuned_gc(), answering_offline(preview=preview) as offline:
                try:
                    private.run_under_mocks(
                        program,
                        monitor,
                        project=project,
                        stack=stack,
                        preview=preview,
                        config=config or {},
                        secret_keys=list(secret_keys or []),
                    )
                except BaseException as error:
                    note(error, offline, preview=preview)
                    raise
        finally:
            monitor.kubernetes.close()
        unseen = monitor.not_evaluated()
        return MockRun(
            project=project,
            stack=stack,
            resources=monitor.recorded,
            outputs=monitor.stack_outputs,
            not_evaluated=list(unseen),
            not_evaluated_reasons=unseen,
            kube_version=version,
            notes=[*monitor.notes, *offline.notes()],
        )

    return contextvars.Context().run(_run)


@contextmanager
def _program_environment(program_dir: Path) -> Iterator[None]:
    """Imports resolve from the program's folder, as the language host arranges; undone afterwards."""
    saved_path = list(sys.path)
    saved_cwd = Path.cwd()
    saved_modules = set(sys.modules)
    sys.path.insert(0, str(program_dir))
    os.chdir(program_dir)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        for module_name in set(sys.modules) - saved_modules:
            module = sys.modules.get(module_name)
            module_file = getattr(module, "__file__", None) or ""
            if module_file.startswith(str(program_dir)) and "site-packages" not in module_file:
                del sys.modules[module_name]


def run_program(
    program_dir: Path, stack: str, *, preview: bool = False, kube_version: KubeVersion | None = None
) -> MockRun:
    """Runs the Pulumi Python program in `program_dir` with the config of `Pulumi.<stack>.yaml`."""
    program_dir = program_dir.resolve()
    project = read_project(program_dir)
    config, secret_keys = engine_config(program_dir, stack)
    main = program_dir / str(project.get("main") or ".")
    entry = main / "__main__.py" if main.is_dir() else main

    def program() -> None:
        runpy.run_path(str(entry), run_name="__main__")

    with _program_environment(program_dir):
        return run_function(
            program,
            project=str(project["name"]),
            stack=stack,
            config=config,
            secret_keys=secret_keys,
            preview=preview,
            kube_version=kube_version,
        )


__all__ = [
    "SECRET_PLACEHOLDER",
    "MockRun",
    "RecordedResource",
    "is_secret",
    "run_function",
    "run_program",
    "strip_secrets",
]
