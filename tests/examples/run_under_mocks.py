"""Runs a Pulumi Python program under the SDK's public mocks and prints what it registered, as JSON.

It runs in the consumer's own virtualenv (`<venv>/bin/python run_under_mocks.py <program dir>`), so
it imports nothing of this repository: only the standard library and the program's dependencies.
Config comes from PULUMI_CONFIG, as the language host passes it. Output, one JSON document:
{"resources": [{"type", "name", "inputs"}...]} or {"error": "<message>"} (exit 1).
"""

import hashlib
import json
import runpy
import sys
import traceback
from pathlib import Path
from typing import Any

import pulumi

SECRET_SIGNATURE = ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270")
"""How the engine protocol marks a secret property value (the documented wire constants)."""


def redacted(value: Any) -> Any:
    """The value with every secret replaced by "[secret]": nothing secret reaches the test's output."""
    if isinstance(value, dict):
        if value.get(SECRET_SIGNATURE[0]) == SECRET_SIGNATURE[1]:
            return "[secret]"
        return {key: redacted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redacted(item) for item in value]
    return value


class Recorder(pulumi.runtime.Mocks):
    """Keeps every registration; Kubernetes objects get an auto-name as the provider would give them."""

    def __init__(self) -> None:
        self.resources: list[dict[str, Any]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        suffix = hashlib.sha256(f"{args.typ}::{args.name}".encode()).hexdigest()[:8]
        if args.typ.startswith("kubernetes:") and isinstance(state.get("metadata"), dict):
            state["metadata"] = {"name": f"{args.name}-{suffix}", **state["metadata"]}
        self.resources.append({"type": args.typ, "name": args.name, "inputs": redacted(state)})
        return f"{args.name}-{suffix}", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def main(program: Path) -> int:
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, project=sys.argv[2], stack=sys.argv[3], preview=False)
    sys.path.insert(0, str(program))

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run() -> None:
        runpy.run_path(str(program / "__main__.py"), run_name="__main__")

    try:
        run()
    except Exception as error:  # reported to the test as data
        print(json.dumps({"error": f"{type(error).__name__}: {error}", "trace": traceback.format_exc()}))
        return 1
    print(json.dumps({"resources": recorder.resources}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
