"""The real kubernetes provider, answering the mock run where Pulumi's mocks would answer nothing.

YAML files and Helm charts only become Kubernetes objects inside the provider: the SDK's v1
`yaml.ConfigFile`/`ConfigGroup`, `helm.v3.Chart` and `kustomize.Directory` ask it through invokes
(`kubernetes:yaml:decode`, `kubernetes:helm:template`, `kubernetes:kustomize:directory`), and
`helm.v4.Chart`, `yaml.v2.ConfigFile|ConfigGroup` and `kustomize.v2.Directory` are remote components
the provider builds in `Construct`, registering their children through the engine's resource
monitor. Both are answered here by `pulumi-resource-kubernetes` itself, the binary `make toolchain`
builds, started as a plugin and configured clusterless: `renderYamlToDirectory` (a scratch folder
nothing is written to, since no resource is created) is the provider's one mode that templates
charts and constructs components without a cluster, and the kubeconfig it sees is empty so no
ambient cluster is ever contacted. Construct gets a monitor endpoint served from the mock monitor,
so a chart's children are recorded exactly as the provider registers them with the real engine.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent import futures
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Protocol

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import (
    engine_pb2_grpc,
    provider_pb2,
    provider_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
)

from hastack_tools.common.toolchain import ToolchainError, toolchain_env
from hastack_tools.dev.kube_version import KubeVersion, discovery_stand_in
from hastack_tools.dev.pack_client import EngineLog, stop_plugin

PROVIDER_ENV = "HASTACK_KUBERNETES_PROVIDER"
"""Path of the `pulumi-resource-kubernetes` binary to use instead of the toolchain's."""

BINARY = "pulumi-resource-kubernetes"
CHECKOUT_TOOLCHAIN = Path(__file__).resolve().parents[2] / "toolchain" / "env.sh"
"""Present in a checkout of this repo, whose toolchain builds the binary."""
STARTUP_TIMEOUT_SECONDS = 60.0
CALL_TIMEOUT_SECONDS = 300.0
_MAX_MESSAGE = 400 * 1024 * 1024
_GRPC_OPTIONS = [
    ("grpc.max_receive_message_length", _MAX_MESSAGE),
    ("grpc.max_send_message_length", _MAX_MESSAGE),
]
_CLUSTER_KEYS = ("kubernetes:config:kubeconfig", "kubernetes:config:context", "kubernetes:config:cluster")
"""Provider config that would point it at a cluster: never passed on (the run is offline)."""


class ProviderUnavailableError(RuntimeError):
    """The provider binary is missing or would not start; the message says which and what to do."""


class Monitor(Protocol):
    """What Construct's monitor endpoint forwards to: the mock monitor's RPC methods."""

    def RegisterResource(self, request: Any) -> Any: ...  # noqa: N802 - gRPC method name
    def RegisterResourceOutputs(self, request: Any) -> Any: ...  # noqa: N802
    def Invoke(self, request: Any) -> Any: ...  # noqa: N802
    def ReadResource(self, request: Any) -> Any: ...  # noqa: N802
    def SupportsFeature(self, request: Any) -> Any: ...  # noqa: N802


def locate_binary() -> Path:
    """`$HASTACK_KUBERNETES_PROVIDER`, else the toolchain's build in a checkout (on PATH when installed);
    the error names what is missing."""
    explicit = os.environ.get(PROVIDER_ENV)
    if explicit is not None:
        path = Path(explicit)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise ProviderUnavailableError(f"{PROVIDER_ENV}={explicit}: not an executable file")
        return path
    if not CHECKOUT_TOOLCHAIN.exists():  # installed (`pip install "hastack[gate]"`): no toolchain here
        found = shutil.which(BINARY)
        if found is None:
            raise ProviderUnavailableError(
                f"no {BINARY} on PATH: install the kubernetes plugin (pulumi plugin install resource "
                f"kubernetes), put its folder on PATH, or set {PROVIDER_ENV}"
            )
        return Path(found)
    try:
        env = toolchain_env()
    except (ToolchainError, subprocess.CalledProcessError) as error:
        raise ProviderUnavailableError(f"no {BINARY}: {error}") from error
    return Path(env["HASTACK_TOOLCHAIN_BIN"]) / BINARY


class _MonitorEndpoint(resource_pb2_grpc.ResourceMonitorServicer):
    """The resource monitor Construct talks to: every call goes to the mock monitor of the run."""

    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor

    def SupportsFeature(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC method name
        answer = self.monitor.SupportsFeature(request)
        return resource_pb2.SupportsFeatureResponse(hasSupport=bool(answer.hasSupport))

    def RegisterResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        return self.monitor.RegisterResource(request)

    def RegisterResourceOutputs(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.monitor.RegisterResourceOutputs(request)
        return empty_pb2.Empty()

    def Invoke(self, request: Any, context: Any) -> Any:  # noqa: N802
        return self.monitor.Invoke(request)

    def ReadResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        return self.monitor.ReadResource(request)


class KubernetesProvider:
    """One running `pulumi-resource-kubernetes` plugin, configured clusterless, plus the Engine and
    ResourceMonitor endpoints it calls back. Started on first use; `close()` stops what it started."""

    def __init__(
        self,
        monitor: Monitor,
        *,
        project: str,
        stack: str,
        config: Mapping[str, str],
        secret_keys: Sequence[str],
        dry_run: bool,
        binary: Path | None = None,
        kube_version: KubeVersion | None = None,
    ) -> None:
        self.monitor = monitor
        self.project = project
        self.stack = stack
        self.config = dict(config)
        self.secret_keys = list(secret_keys)
        self.dry_run = dry_run
        self.binary = binary
        self.kube_version = kube_version
        """The version charts are rendered for (None: Helm's own default, v1.20.0)."""
        self._discovery = ExitStack()
        self.engine = EngineLog(echo=False)
        self._lock = threading.Lock()
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._server: grpc.Server | None = None
        self._monitor_address = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: Any = None
        self._channel: grpc.Channel | None = None
        self._stub: Any = None
        self._failure: ProviderUnavailableError | None = None

    # ---- lifecycle --------------------------------------------------------------------------------

    def _ensure_started(self) -> Any:
        with self._lock:
            if self._failure is not None:
                raise self._failure
            if self._stub is None:
                try:
                    self._start()
                except ProviderUnavailableError as error:
                    self._failure = error
                    self.close()
                    raise
            return self._stub

    def _start(self) -> None:
        binary = self.binary or locate_binary()
        if not binary.is_file():
            raise ProviderUnavailableError(f"{binary}: no such file (build it with `make toolchain`)")
        self._scratch = tempfile.TemporaryDirectory(prefix="hastack-k8s-provider-")
        scratch = Path(self._scratch.name)
        kubeconfig = scratch / "kubeconfig"
        kubeconfig.write_text("")
        if self.kube_version is not None:  # a loopback stand-in answering discovery only
            self._discovery.enter_context(discovery_stand_in(self.kube_version, kubeconfig))
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), options=_GRPC_OPTIONS)
        engine_pb2_grpc.add_EngineServicer_to_server(self.engine, self._server)
        resource_pb2_grpc.add_ResourceMonitorServicer_to_server(_MonitorEndpoint(self.monitor), self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        self._monitor_address = f"127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_SERVICE")}
        env["KUBECONFIG"] = str(kubeconfig)
        self._stderr = tempfile.TemporaryFile(dir=scratch)  # noqa: SIM115 - open while the plugin runs
        # The engine starts plugins in the program's folder: relative chart and file paths resolve there.
        self._process = subprocess.Popen(
            [str(binary), self._monitor_address],
            cwd=Path.cwd(),
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        provider_port = self._read_port(binary)
        self._channel = grpc.insecure_channel(f"127.0.0.1:{provider_port}", options=_GRPC_OPTIONS)
        grpc.channel_ready_future(self._channel).result(timeout=STARTUP_TIMEOUT_SECONDS)
        stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
        variables = {
            k: v for k, v in self.config.items() if k.startswith("kubernetes:") and k not in _CLUSTER_KEYS
        }
        variables["kubernetes:config:renderYamlToDirectory"] = str(scratch / "never-written")
        args = struct_pb2.Struct()
        args.update({key.rsplit(":", 1)[-1]: value for key, value in variables.items()})
        try:
            stub.Configure(
                provider_pb2.ConfigureRequest(
                    variables=variables, args=args, acceptSecrets=True, acceptResources=True
                ),
                timeout=STARTUP_TIMEOUT_SECONDS,
            )
        except grpc.RpcError as error:
            raise ProviderUnavailableError(f"{binary}: Configure failed: {error.details()}") from error
        self._stub = stub

    def _read_port(self, binary: Path) -> int:
        process = self._process
        assert process is not None
        assert process.stdout is not None
        stdout = process.stdout
        lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        text = ""
        while time.monotonic() < deadline:
            try:
                text = lines.get(timeout=0.1).decode(errors="replace").strip()
            except queue.Empty:
                if process.poll() is not None:
                    break
                continue
            if text.isdigit():
                return int(text)
            break
        raise ProviderUnavailableError(
            f"{binary} did not print its port within {STARTUP_TIMEOUT_SECONDS:.0f}s "
            f"(exit code {process.poll()}, first line {text!r}): {self._stderr_tail()}"
        )

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return "\n".join(self._stderr.read().decode(errors="replace").strip().splitlines()[-20:])

    def close(self) -> None:
        """Stops the plugin (our own process, by handle) and the endpoints it used."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        self._stub = None
        if self._process is not None:
            stop_plugin(self._process)
            self._process = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._server is not None:
            self._server.stop(0)
            self._server = None
        self._discovery.close()
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    # ---- what the engine would ask it ----------------------------------------------------------

    def invoke(self, request: Any) -> Any:
        """A program's ResourceInvokeRequest, answered by the provider as a ResourceInvokeResponse."""
        stub = self._ensure_started()
        try:
            response = stub.Invoke(
                provider_pb2.InvokeRequest(tok=request.tok, args=request.args), timeout=CALL_TIMEOUT_SECONDS
            )
        except grpc.RpcError as error:
            raise RuntimeError(f"{BINARY}: invoke {request.tok} failed: {error.details()}") from error
        answer = resource_pb2.ResourceInvokeResponse(failures=response.failures)
        getattr(answer, "return").CopyFrom(getattr(response, "return"))
        return answer

    def construct(self, request: Any) -> Any:
        """A remote component's RegisterResourceRequest, built by the provider's Construct; its
        children arrive at the mock monitor. Returns the RegisterResourceResponse for the program."""
        stub = self._ensure_started()
        dependencies = {
            key: provider_pb2.ConstructRequest.PropertyDependencies(urns=list(value.urns))
            for key, value in request.propertyDependencies.items()
        }
        construct = provider_pb2.ConstructRequest(
            project=self.project,
            stack=self.stack,
            organization="organization",
            config=self.config,
            configSecretKeys=self.secret_keys,
            dryRun=self.dry_run,
            parallel=8,
            monitorEndpoint=self._monitor_address,
            type=request.type,
            name=request.name,
            parent=request.parent,
            inputs=request.object,
            inputDependencies=dependencies,
            providers=dict(request.providers),
            dependencies=list(request.dependencies),
        )
        try:
            response = stub.Construct(construct, timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as error:
            raise RuntimeError(
                f"{BINARY}: construct {request.type} {request.name!r} failed: {error.details()}"
            ) from error
        return resource_pb2.RegisterResourceResponse(urn=response.urn, object=response.state)
