"""`python -m hastack_policy.pack <folder>`: a hastack-ha pack folder for another repository.

`pulumi preview --policy-pack <folder>` wants a folder with `PulumiPolicy.yaml` and `__main__.py`,
run with the Python the yaml names. This writes one that serves the installed rules with the venv
of the interpreter running it, plus `config/<environment>.json`, so a program elsewhere needs only
`pip install "hastack[policy]"`, never a clone of this repo. `policy/__main__.py` serves the same way.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from hastack_policy import PACK_NAME, PACK_VERSION, build_policies

DESCRIPTION = "High availability and safety rules for Kubernetes workloads deployed with Pulumi."
ENTRY_POINT = """\"\"\"hastack-ha: the rules installed in the venv that PulumiPolicy.yaml names.\"\"\"

from hastack_policy.pack import serve

serve()
"""


class PackError(RuntimeError):
    """The pack folder cannot be written as asked; the message says why and what to do."""


def serve() -> None:
    """Builds the pack and serves the analyzer protocol to the engine; blocks until it is stopped."""
    from pulumi_policy import EnforcementLevel, Policy, PolicyPack

    from hastack.pulumi_internals.decode_once import install
    from hastack.pulumi_internals.gc_tuning import tune_gc

    policies: list[Policy] = [*build_policies()]
    tune_gc()  # a long-lived server: imports and rules out of the collector's passes (HASTACK_GC_TUNING=0)
    install()  # decode each resource once per request (HASTACK_POLICY_DECODE_ONCE=0: pulumi-policy's way)
    PolicyPack(
        name=PACK_NAME,
        enforcement_level=EnforcementLevel.ADVISORY,
        policies=policies,
        description=DESCRIPTION,
    )


def current_virtualenv() -> Path:
    """The venv of the running interpreter: the one that has hastack and pulumi-policy installed."""
    prefix = Path(sys.prefix)
    if prefix == Path(sys.base_prefix) or not (prefix / "bin" / "python").exists():
        raise PackError(
            f"{sys.executable} is not a virtualenv's python: run this with the python of the venv "
            'that has `pip install "hastack[policy]"` (e.g. .venv/bin/python -m hastack_policy.pack <folder>)'
        )
    return prefix


def policy_yaml(virtualenv: Path) -> str:
    """The pack's PulumiPolicy.yaml: the installed rules, run with `virtualenv` (an absolute path)."""
    return (
        "# Written by `python -m hastack_policy.pack`: the hastack-ha rules installed in the venv below.\n"
        "# Run that command again after moving or re-creating the venv.\n"
        "runtime:\n"
        "  name: python\n"
        "  options:\n"
        "    toolchain: pip\n"
        f"    virtualenv: {virtualenv}\n"
        f"description: {DESCRIPTION}\n"
        f"version: {PACK_VERSION}\n"
    )


def write_pack(folder: Path, virtualenv: Path) -> list[Path]:
    """Writes PulumiPolicy.yaml, __main__.py and config/<env>.json into `folder`; returns the files."""
    if folder.exists() and not folder.is_dir():
        raise PackError(f"{folder}: exists and is not a folder; name a folder for the policy pack")
    (folder / "config").mkdir(parents=True, exist_ok=True)
    written = {
        folder / "PulumiPolicy.yaml": policy_yaml(virtualenv.resolve()),
        folder / "__main__.py": ENTRY_POINT,
    }
    configs = resources.files("hastack_policy.config")
    for entry in sorted(configs.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            written[folder / "config" / entry.name] = entry.read_text()
    for path, text in written.items():
        path.write_text(text)
    return list(written)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hastack_policy.pack", description=__doc__)
    parser.add_argument("folder", type=Path, help="where to write the pack (created if missing)")
    args = parser.parse_args(argv)
    try:
        files = write_pack(args.folder, current_virtualenv())
    except PackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"hastack-ha policy pack written to {args.folder} ({len(files)} files); use it with")
    config = args.folder / "config" / "<environment>.json"
    print(f"  pulumi preview --policy-pack {args.folder} --policy-pack-config {config}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
