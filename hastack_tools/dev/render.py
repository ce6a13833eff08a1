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

from hastack.runtime_tuning import tuned_gc
from hastack_tools.dev.mockrun import MockRun, RecordedResource, strip_secrets
from hastack_tools.dev.program import (
    NotAProgramError,
    ProgramFailedError,
    StackFileMissingError,
    choose_stack,
    run_checked,
)

REDACTED = "<redacted>"
REDACTED_B64 = base64.b64encode(REDACTED.encode()).decode()
MARKER = ".hastack-render"
"""Marks a folder as ours, so a re-render may clear the files it wrote before."""

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


def integral(value: Any) -> Any:
    """Protobuf carries every number as a float; Kubernetes wants integers where they are whole.

    Keys are sorted too: protobuf Structs keep no order, and a render must be reproducible.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: integral(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [integral(v) for v in value]
    return value


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
    body = integral(body)
    ordered = {k: body[k] for k in ("apiVersion", "kind", "metadata") if k in body}
    ordered.update({k: v for k, v in body.items() if k not in ordered})
    return ordered


def group_of(resource: RecordedResource, by_urn: dict[str, RecordedResource]) -> str:
    """The top-level component a resource belongs to (its file name), or 'stack'."""
    current = resource
    while current.parent in by_urn:
        current = by_urn[current.parent]
    return current.name if not current.custom else "stack"


def _sort_key(item: dict[str, Any]) -> tuple[int, str]:
    kind = str(item.get("kind", ""))
    rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    return rank, str(item.get("metadata", {}).get("name", ""))


def render_groups(run: MockRun) -> dict[str, list[dict[str, Any]]]:
    """The manifests per group; under the run's GC tuning, since the collector would otherwise walk
    the whole record over and over (0.4 s of a 100-app render)."""
    by_urn = {r.urn: r for r in run.resources}
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with tuned_gc():
        for resource in run.resources:
            if is_kubernetes_object(resource):
                groups[group_of(resource, by_urn)].append(manifest(resource))
    return {name: sorted(items, key=_sort_key) for name, items in sorted(groups.items())}


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
"""libyaml's emitter, about 5x faster: the same bytes as SafeDumper for printable-ASCII values (a
long escaped string may wrap elsewhere, same data; tests/tools/test_render.py)."""


def dump_manifests(items: list[dict[str, Any]]) -> str:
    """A multi-document YAML of the manifests, in the order given."""
    return yaml.dump_all(items, Dumper=_DUMPER, sort_keys=False, default_flow_style=False)


def write(run: MockRun, out: Path) -> tuple[list[Path], int]:
    """Writes `<out>/<group>.yaml` and `<out>/outputs.json`; returns the files and the manifest count."""
    out.mkdir(parents=True, exist_ok=True)
    if (out / MARKER).exists():
        for stale in [*out.glob("*.yaml"), out / "outputs.json"]:
            stale.unlink(missing_ok=True)
    elif any(out.iterdir()):
        raise FileExistsError(f"{out}: not empty and not a previous render; choose an empty folder")
    (out / MARKER).write_text("written by hastack_tools.dev.render\n")
    written = []
    groups = render_groups(run)
    for name, items in groups.items():
        path = out / f"{name}.yaml"
        path.write_text(dump_manifests(items))
        written.append(path)
    outputs = out / "outputs.json"
    outputs.write_text(json.dumps(integral(strip_secrets(run.outputs)), indent=2, sort_keys=True) + "\n")
    written.append(outputs)
    return written, sum(len(items) for items in groups.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--stack", help="stack whose Pulumi.<stack>.yaml to use; must exist (default: dev here, ci elsewhere)"
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--program", type=Path, default=Path("."), help="Pulumi Python program dir (default: .)"
    )
    args = parser.parse_args(argv)
    program = args.program.resolve()
    try:
        stack = choose_stack(program, args.stack)
        run = run_checked(program, stack)
    except (NotAProgramError, StackFileMissingError, ProgramFailedError) as error:
        print(f"render: {error}", file=sys.stderr)
        return 2
    files, count = write(run, args.out)
    print(
        f"rendered {count} manifests of {program.name}, {stack.describe()}, "
        f"into {len(files) - 1} files under {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
