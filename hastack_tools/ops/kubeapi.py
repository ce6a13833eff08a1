"""Just enough of a Kubernetes API client for the engine's own checks: is the target reachable, which
cluster is it, does an object exist, what a namespace holds of a kind, delete one. Reads a kubeconfig
as kubectl does (current context; inline or file credentials, client certificate or bearer token);
stdlib only, with short timeouts.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import tempfile
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class KubeconfigError(RuntimeError):
    """The kubeconfig cannot be used; the message names the file and what is wrong."""


class UnreachableError(RuntimeError):
    """The API server did not answer; the message says how."""


def kubeconfig_path(env: dict[str, str] | os._Environ[str]) -> Path:
    """The first file of KUBECONFIG (as kubectl merges, the first one names the current context)."""
    value = env.get("KUBECONFIG") or str(Path(env.get("HOME", "~")).expanduser() / ".kube" / "config")
    return Path(value.split(os.pathsep)[0]).expanduser()


def _material(section: dict[str, Any], key: str, base: Path) -> bytes | None:
    if section.get(f"{key}-data"):
        return base64.b64decode(section[f"{key}-data"])
    if section.get(key):
        path = Path(section[key])
        return (path if path.is_absolute() else base / path).read_bytes()
    return None


_CONTEXTS: dict[tuple[str, bytes | None, bytes | None, bytes | None, bool], ssl.SSLContext] = {}
_CONTEXTS_LOCK = threading.Lock()


@dataclass(frozen=True)
class KubeAPI:
    server: str
    context: str
    source: Path
    ca: bytes | None
    cert: bytes | None
    key: bytes | None
    token: str | None
    insecure: bool = False

    @classmethod
    def from_kubeconfig(cls, path: Path) -> KubeAPI:
        if not path.exists():
            raise KubeconfigError(f"KUBECONFIG points at {path}, which does not exist")
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as error:
            raise KubeconfigError(f"{path}: not valid YAML ({error})") from None
        name = loaded.get("current-context")
        contexts = {c.get("name"): c.get("context") or {} for c in loaded.get("contexts") or []}
        if not name or name not in contexts:
            raise KubeconfigError(f"{path}: no current-context (or it names no context): {name!r}")
        context = contexts[name]
        clusters = {c.get("name"): c.get("cluster") or {} for c in loaded.get("clusters") or []}
        users = {u.get("name"): u.get("user") or {} for u in loaded.get("users") or []}
        cluster = clusters.get(context.get("cluster"))
        if not cluster or not cluster.get("server"):
            raise KubeconfigError(
                f"{path}: context {name} names cluster {context.get('cluster')!r}, not defined"
            )
        user = users.get(context.get("user"), {})
        base = path.parent
        try:
            return cls(
                server=str(cluster["server"]).rstrip("/"),
                context=str(name),
                source=path,
                ca=_material(cluster, "certificate-authority", base),
                cert=_material(user, "client-certificate", base),
                key=_material(user, "client-key", base),
                token=user.get("token"),
                insecure=bool(cluster.get("insecure-skip-tls-verify")),
            )
        except OSError as error:
            raise KubeconfigError(f"{path}: {error}") from None

    def _ssl(self) -> ssl.SSLContext:
        """One context per set of credentials, made once: making one (CA store, client key) costs more
        CPU than the request, and the fleet's gates ask several times a second."""
        credentials = (self.server, self.ca, self.cert, self.key, self.insecure)
        with _CONTEXTS_LOCK:
            if credentials not in _CONTEXTS:
                _CONTEXTS[credentials] = self._new_ssl()
            return _CONTEXTS[credentials]

    def _new_ssl(self) -> ssl.SSLContext:
        if self.ca and not self.insecure:  # the kubeconfig's CA alone, as kubectl trusts it
            context = ssl.create_default_context(cadata=self.ca.decode())
        else:
            context = ssl.create_default_context()
        if self.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.cert and self.key:
            # ssl wants files: written to a private temporary folder, removed at once
            with tempfile.TemporaryDirectory() as folder:
                cert, key = Path(folder) / "c", Path(folder) / "k"
                cert.write_bytes(self.cert)
                key.write_bytes(self.key)
                context.load_cert_chain(cert, key)
        return context

    def get(self, path: str, timeout_s: float = 5.0, method: str = "GET") -> tuple[int, bytes]:
        """GET (or `method`) `path`: (status, body); UnreachableError when nothing answers in time."""
        request = urllib.request.Request(self.server + path, method=method)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout_s, context=self._ssl()) as response:
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as error:
            return int(error.code), bytes(error.read())
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            reason = getattr(error, "reason", error)
            raise UnreachableError(f"the API server {self.server} does not answer ({reason})") from None

    def ready(self, timeout_s: float = 5.0) -> None:
        """Raises UnreachableError unless /readyz (or /healthz on older servers) says ok."""
        status, body = self.get("/readyz", timeout_s)
        if status == 404:
            status, body = self.get("/healthz", timeout_s)
        if status != 200:
            text = body.decode(errors="replace").strip().splitlines()[:3]
            raise UnreachableError(
                f"the API server {self.server} is not ready (HTTP {status}: {' '.join(text)})"
            )

    def cluster_uid(self, timeout_s: float = 5.0) -> str | None:
        """The kube-system namespace's uid: the same server address can front a new cluster."""
        status, body = self.get("/api/v1/namespaces/kube-system", timeout_s)
        if status != 200:
            return None
        return str(json.loads(body).get("metadata", {}).get("uid") or "") or None

    def resource(self, api_version: str, kind: str) -> tuple[str, bool] | None:
        """(REST path of the kind's collection without a namespace, whether it is namespaced), found
        by discovery; None when the server does not serve that kind."""
        base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
        status, body = self.get(base)
        if status != 200:
            return None
        for resource in json.loads(body).get("resources", []):
            if resource.get("kind") == kind and "/" not in resource.get("name", ""):
                return f"{base}/{resource['name']}", bool(resource.get("namespaced"))
        return None

    def object_path(self, api_version: str, kind: str, namespace: str | None, name: str) -> str | None:
        """The REST path of an object, its resource name found by discovery (None: no such kind)."""
        found = self.resource(api_version, kind)
        if found is None:
            return None
        collection, namespaced = found
        if namespaced:
            base, _, plural = collection.rpartition("/")
            return f"{base}/namespaces/{namespace or 'default'}/{plural}/{name}"
        return f"{collection}/{name}"

    def list_namespaced(self, api_version: str, kind: str, namespace: str) -> list[dict[str, Any]] | None:
        """The objects of a namespaced kind in a namespace (list items carry no kind: the caller knows
        it); None when the server does not serve the kind, or serves it cluster-scoped."""
        found = self.resource(api_version, kind)
        if found is None or not found[1]:
            return None
        base, _, plural = found[0].rpartition("/")
        status, body = self.get(f"{base}/namespaces/{namespace}/{plural}")
        if status == 404:
            return []
        if status != 200:
            raise UnreachableError(
                f"GET {base}/namespaces/{namespace}/{plural}: HTTP {status}: "
                f"{body.decode(errors='replace')[:200]}"
            )
        return list(json.loads(body).get("items") or [])

    def delete(self, api_version: str, kind: str, namespace: str | None, name: str) -> bool:
        """Deletes an object (its dependents by the garbage collector); False when it did not exist."""
        path = self.object_path(api_version, kind, namespace, name)
        if path is None:
            return False
        status, body = self.get(path + "?propagationPolicy=Background", method="DELETE")
        if status == 404:
            return False
        if status not in (200, 202):
            raise UnreachableError(f"DELETE {path}: HTTP {status}: {body.decode(errors='replace')[:200]}")
        return True
