"""The Kubernetes version charts are rendered for offline, and the loopback stand-in that tells it.

Helm charts branch on `.Capabilities.KubeVersion` (a `kubeVersion: ">=1.23"` floor, `policy/v1` or
`policy/v1beta1` for a PodDisruptionBudget). Rendered without a cluster, Helm assumes v1.20.0, which
no supported cluster runs. pulumi-kubernetes takes the version from the cluster it is configured
with (`helm.v4.Chart` has no input for it; `helm.v3.Chart` has `kube_version`), so the offline run
gives the provider a kubeconfig naming this stand-in: a loopback HTTP server that answers the
discovery reads (`/version`, and empty `/api`, `/apis` and OpenAPI documents, so Helm keeps its
own list of API versions) and refuses everything else. It never sees a write: the gate only asks the
provider for invokes and component construction, whose children come back to the mock monitor.

The default version is the one the local control plane serves (`K8S_VERSION` in cluster/versions.sh);
`--kube-version` changes it.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from hastack_tools.common.checkout import REPO_ROOT

CLUSTER_VERSIONS = REPO_ROOT / "cluster" / "versions.sh"
VERSION_FORM = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$")


class KubeVersionError(ValueError):
    """A Kubernetes version that is not `[v]MAJOR.MINOR[.PATCH]`."""


@dataclass(frozen=True)
class KubeVersion:
    """A Kubernetes release as `/version` reports it, and where the choice came from."""

    major: int
    minor: int
    patch: int
    source: str

    @property
    def git_version(self) -> str:
        return f"v{self.major}.{self.minor}.{self.patch}"

    def describe(self) -> str:
        return f"charts rendered for Kubernetes {self.git_version} ({self.source})"


def parse(text: str, source: str) -> KubeVersion:
    """`1.31`, `v1.34.4` → a KubeVersion; anything else is an error naming the value and the form."""
    match = VERSION_FORM.match(text.strip())
    if match is None:
        raise KubeVersionError(
            f"{source}: {text!r} is not a Kubernetes version; use [v]MAJOR.MINOR[.PATCH], e.g. v1.34.4"
        )
    major, minor, patch = match.groups()
    return KubeVersion(int(major), int(minor), int(patch or 0), source)


INSTALLED_DEFAULT = "v1.34.4"
"""The control plane's version for an installed gate, which has no cluster/versions.sh to read (a test
keeps it equal to K8S_VERSION there)."""


def control_plane_version(path: Path = CLUSTER_VERSIONS) -> KubeVersion:
    """The version the local control plane is built at (`K8S_VERSION=` in cluster/versions.sh; an
    installed gate, without a checkout, the version pinned with it)."""
    if not path.exists():
        return parse(INSTALLED_DEFAULT, "the local control plane's, as pinned in this hastack release")
    found = re.search(r"^K8S_VERSION=(\S+)", path.read_text(), re.MULTILINE)
    if found is None:
        raise KubeVersionError(f"{path}: no K8S_VERSION= line")
    return parse(found.group(1), f"the local control plane's, K8S_VERSION in {path.relative_to(REPO_ROOT)}")


def _documents(version: KubeVersion) -> dict[str, Any]:
    return {
        "/version": {
            "major": str(version.major),
            "minor": str(version.minor),
            "gitVersion": version.git_version,
            "gitCommit": "",
            "gitTreeState": "clean",
            "buildDate": "1970-01-01T00:00:00Z",
            "goVersion": "",
            "compiler": "gc",
            "platform": "linux/amd64",
        },
        "/api": {"kind": "APIVersions", "versions": [], "serverAddressByClientCIDRs": []},
        "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": []},
        "/openapi/v3": {"paths": {}},
    }


class _Handler(BaseHTTPRequestHandler):
    documents: ClassVar[dict[str, Any]] = {}

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/openapi/v2":  # an empty OpenAPI v2 document: no schemas (protobuf of an empty message)
            self._send(200, b"", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
        elif path in self.documents:
            self._send(200, json.dumps(self.documents[path]).encode(), "application/json")
        else:
            status = {
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Failure",
                "reason": "NotFound",
                "code": 404,
            }
            self._send(404, json.dumps(status).encode(), "application/json")

    def do_POST(self) -> None:
        self._send(405, b"", "text/plain")

    do_PUT = do_PATCH = do_DELETE = do_POST  # noqa: N815

    def _send(self, code: int, body: bytes, kind: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: offline
  cluster:
    server: http://{address}
contexts:
- name: offline
  context:
    cluster: offline
    user: offline
current-context: offline
users:
- name: offline
  user: {{}}
"""


@contextmanager
def discovery_stand_in(version: KubeVersion, kubeconfig: Path) -> Iterator[str]:
    """Serves discovery for `version` on a loopback port and writes a kubeconfig naming it."""
    handler = type("Handler", (_Handler,), {"documents": _documents(version)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    address = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="kube-discovery", daemon=True)
    thread.start()
    kubeconfig.write_text(KUBECONFIG.format(address=address))
    try:
        yield address
    finally:
        server.shutdown()
        server.server_close()


__all__ = ["KubeVersion", "KubeVersionError", "control_plane_version", "discovery_stand_in", "parse"]
