"""`make render`: run the program under mocks and write the Kubernetes manifests it would send.

One multi-document YAML file per top-level component (the namespace, each app), numbers as
integers, every secret value redacted, plus the stack outputs as JSON.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from hastack.config import ProbesConfig
from hastack.config.profiles import ENVIRONMENTS
from hastack.pulumi_internals.gc_tuning import tuned_gc
from hastack.resources.labels import PART_OF
from hastack.resources.workload import PORT_NAME, SECRETS_MOUNT_PATH, SECRETS_VOLUME
from hastack.wire import whole_numbers
from hastack_tools.common.project import NotAProgramError, StackFileMissingError, choose_stack
from hastack_tools.common.stack_secrets import StackSecretError
from hastack_tools.dev.mockrun import MockRun, RecordedResource, strip_secrets
from hastack_tools.dev.program import ProgramFailedError, run_checked

REDACTED = "<redacted>"
REDACTED_B64 = base64.b64encode(REDACTED.encode()).decode()
MARKER = ".hastack-render"
"""Marks a folder as ours, so a re-render may clear the files it wrote before."""

APP_LABEL = "app.kubernetes.io/name"
PART_OF_LABEL = "app.kubernetes.io/part-of"
DEFAULT_PROBES = ProbesConfig()
"""hastack's probes when an app sets none (the paths the notes name)."""

KIND_ORDER = (
    "Namespace",
    "NetworkPolicy",
    "ServiceAccount",
    "Secret",
    "ConfigMap",
    "Service",
    "Deployment",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "Ingress",
)


def is_kubernetes_object(resource: RecordedResource) -> bool:
    return (
        resource.custom
        and resource.type.startswith("kubernetes:")
        and not resource.type.startswith("pulumi:providers:")
    )


def manifest(resource: RecordedResource) -> dict[str, Any]:
    """The object as the provider would send it: auto-name filled in, secrets redacted."""
    inputs = dict(resource.inputs)
    if inputs.get("kind") == "Secret":
        for key in ("stringData", "data"):
            names = strip_secrets(inputs.get(key), None)
            if isinstance(names, dict):
                inputs[key] = dict.fromkeys(names, REDACTED if key == "stringData" else REDACTED_B64)
    body = strip_secrets(inputs)
    metadata = dict(body.get("metadata") or {})
    output_metadata = resource.outputs.get("metadata")
    if not metadata.get("name") and isinstance(output_metadata, dict) and output_metadata.get("name"):
        metadata["name"] = output_metadata["name"]
    body["metadata"] = metadata
    body = whole_numbers(body, sort_keys=True)
    ordered = {k: body[k] for k in ("apiVersion", "kind", "metadata") if k in body}
    ordered.update({k: v for k, v in body.items() if k not in ordered})
    return ordered


def group_of(resource: RecordedResource, by_urn: dict[str, RecordedResource]) -> str:
    """The top-level component a resource belongs to (its file name), or 'stack'."""
    current = resource
    while current.parent in by_urn:
        current = by_urn[current.parent]
    return current.name if not current.custom else "stack"


def manifest_order(item: dict[str, Any]) -> tuple[int, str]:
    kind = str(item.get("kind", ""))
    rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    return rank, str(item.get("metadata", {}).get("name", ""))


def render_groups(run: MockRun) -> dict[str, list[dict[str, Any]]]:
    """The manifests per group; under the run's GC tuning, since the collector would otherwise walk
    the whole record over and over."""
    by_urn = {r.urn: r for r in run.resources}
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with tuned_gc():
        for resource in run.resources:
            if is_kubernetes_object(resource):
                groups[group_of(resource, by_urn)].append(manifest(resource))
    return {name: sorted(items, key=manifest_order) for name, items in sorted(groups.items())}


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
"""libyaml's emitter, about 5x faster: the same bytes as SafeDumper for printable-ASCII values (a
long escaped string may wrap elsewhere, same data; tests/tools/dev/test_render.py)."""


def dump_manifests(items: list[dict[str, Any]]) -> str:
    """A multi-document YAML of the manifests, in the order given."""
    return yaml.dump_all(items, Dumper=_DUMPER, sort_keys=False, default_flow_style=False)


def write(
    run: MockRun, out: Path, groups: dict[str, list[dict[str, Any]]] | None = None
) -> tuple[list[Path], int]:
    """Writes `<out>/<group>.yaml` and `<out>/outputs.json` (the manifests `groups`, else the run's);
    returns the files and the manifest count."""
    out.mkdir(parents=True, exist_ok=True)
    if (out / MARKER).exists():
        for stale in [*out.glob("*.yaml"), out / "outputs.json"]:
            stale.unlink(missing_ok=True)
    elif any(out.iterdir()):
        raise FileExistsError(f"{out}: not empty and not written by render; choose an empty or new folder")
    (out / MARKER).write_text("written by hastack_tools.dev.render\n")
    written = []
    groups = render_groups(run) if groups is None else groups
    for name, items in groups.items():
        path = out / f"{name}.yaml"
        path.write_text(dump_manifests(items))
        written.append(path)
    outputs = out / "outputs.json"
    outputs.write_text(
        json.dumps(whole_numbers(strip_secrets(run.outputs), sort_keys=True), indent=2, sort_keys=True) + "\n"
    )
    written.append(outputs)
    return written, sum(len(items) for items in groups.values())


def _apps(deployments: list[dict[str, Any]]) -> str:
    return ", ".join(dict.fromkeys(str(d["metadata"]["labels"].get(APP_LABEL)) for d in deployments))


def default_notes(groups: dict[str, list[dict[str, Any]]]) -> list[str]:
    """One line per hastack default that changes how an app runs, for the apps it applies to:
    secrets as files (an app reading them from its environment starts without them) and the
    probe paths the app must answer."""
    items = [item for group in groups.values() for item in group]
    deployments = [
        d
        for d in items
        if d.get("kind") == "Deployment" and (d["metadata"].get("labels") or {}).get(PART_OF_LABEL) == PART_OF
    ]
    secret_keys = {
        (s["metadata"].get("namespace"), s["metadata"].get("name")): sorted(
            s.get("stringData") or s.get("data") or {}
        )
        for s in items
        if s.get("kind") == "Secret"
    }
    notes: list[str] = []
    as_files = [d for d in deployments if _secret_volume(d) is not None]
    if as_files:
        namespace = as_files[0]["metadata"].get("namespace")
        keys = secret_keys.get((namespace, _secret_volume(as_files[0]))) or ["DB_PASSWORD"]
        defaults = ", ".join(env for env, rules in ENVIRONMENTS.items() if rules.secrets_as_files)
        example = f"{SECRETS_MOUNT_PATH}/{keys[0]}"
        notes.append(
            f"{_apps(as_files)}: secrets are files in {SECRETS_MOUNT_PATH}/ (e.g. {example}), not "
            f"environment variables (secretsAs: files, the default in {defaults}): an app that reads "
            f"{keys[0]} from its environment starts without it; read the file, or set secretsAs: env"
        )
    readiness, liveness = DEFAULT_PROBES.readiness.path, DEFAULT_PROBES.liveness.path
    probed = [d for d in deployments if _probe_paths(d) == (readiness, liveness)]
    if probed:
        notes.append(
            f"{_apps(probed)}: probed with GET {readiness} (readiness, startup) and GET {liveness} "
            f"(liveness) on port {PORT_NAME}, hastack's defaults: the app must answer them, or set "
            "probes.readiness.path and probes.liveness.path"
        )
    return notes


def _pod_spec(deployment: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = deployment.get("spec", {}).get("template", {}).get("spec", {})
    return spec


def _secret_volume(deployment: dict[str, Any]) -> str | None:
    """The Secret mounted as files at hastack's secrets path, if any."""
    for volume in _pod_spec(deployment).get("volumes") or []:
        if volume.get("name") == SECRETS_VOLUME and isinstance(volume.get("secret"), dict):
            return str(volume["secret"].get("secretName"))
    return None


def _probe_paths(deployment: dict[str, Any]) -> tuple[Any, Any]:
    containers = _pod_spec(deployment).get("containers") or [{}]
    first = containers[0]
    return (
        (first.get("readinessProbe") or {}).get("httpGet", {}).get("path"),
        (first.get("livenessProbe") or {}).get("httpGet", {}).get("path"),
    )


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument(
        "--stack", help="stack whose Pulumi.<stack>.yaml to use; must exist (default: dev here, ci elsewhere)"
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--program", type=Path, default=Path("."), help="Pulumi Python program dir (default: .)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="the traceback of a failed program")
    args = parser.parse_args(argv)
    program = args.program.resolve()
    try:
        stack = choose_stack(program, args.stack)
        run = run_checked(program, stack)
        groups = render_groups(run)
        files, count = write(run, args.out, groups)
    except (
        NotAProgramError,
        StackFileMissingError,
        ProgramFailedError,
        FileExistsError,
        StackSecretError,
    ) as error:
        if args.verbose and isinstance(error, ProgramFailedError):
            print(error.traceback_text(), file=sys.stderr, end="")
        print(f"render: {error}", file=sys.stderr)
        return 2
    print(
        f"rendered {count} manifests of {program.name}, {stack.describe()}, "
        f"into {len(files) - 1} files under {args.out}"
    )
    for note in default_notes(groups):
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
