"""`make docs`: writes every generated document from the code it describes, the policy pack's
reference and per-environment configs (hastack_tools.dev.policy_docs) and the stack file's reference
(hastack_tools.dev.config_docs). `--check` exits 1 naming what is stale (a test runs the same check).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.dev import config_docs, policy_docs


def generated_files() -> dict[Path, str]:
    """Every generated file and the text the code gives it now."""
    return {**policy_docs.generated_files(), **config_docs.generated_files()}


def stale(files: dict[Path, str]) -> list[Path]:
    return [path for path, text in files.items() if not path.exists() or path.read_text() != text]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hastack_tools.dev.docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated file is stale")
    args = parser.parse_args(argv)
    files = generated_files()
    if args.check:
        for path in stale(files):
            print(f"{path.relative_to(REPO_ROOT)} is stale: run make docs", file=sys.stderr)
        return 1 if stale(files) else 0
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
