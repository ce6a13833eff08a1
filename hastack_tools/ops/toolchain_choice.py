"""Which Pulumi CLI an engine command uses (stdlib only: `make doctor` runs before any venv exists).

`built`: the toolchain toolchain/build.sh builds into the cache; `system`: the `pulumi` on PATH and the
plugins it finds, as an official install runs them; `auto` (the default): system when a `pulumi` other
than ours is on PATH and the target needs no local control plane, else built.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

TOOLCHAINS = ("auto", "built", "system")


def choose_toolchain(choice: str, target: str, env: Mapping[str, str]) -> str:
    if choice != "auto":
        return choice
    ours = str(Path(env.get("HASTACK_CACHE") or Path(env.get("HOME", "~")) / ".cache/hastack").expanduser())
    found = shutil.which("pulumi", path=env.get("PATH"))
    return "system" if target == "kubeconfig" and found and not found.startswith(ours) else "built"
