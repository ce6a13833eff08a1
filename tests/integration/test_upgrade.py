"""Upgrading hastack replaces nothing: a stack deployed by the last release, previewed with this
code, shows updates at most (no replacement, no delete), through the real engine.

Replacements are what an upgrade must never cause silently: a changed URN (parent, type or name
of a resource moved without an alias) or an immutable field (a Deployment selector, a Service's
clusterIP) would recreate live objects.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.ops import engine

pytestmark = pytest.mark.integration

LAST_RELEASE = "3c7929fada7bae72f80a9080ed9b1befcac38b6c"
"""hastack 0.3.0, the last release before this one (the commit its stacks were deployed from)."""

REPLACING_OPS = frozenset({"replace", "create-replacement", "delete-replaced", "delete", "discard"})


PROGRAM_FILES = ("__main__.py", "Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "components")
"""What the release's program is made of (its tools stay out: this code runs the engine)."""


def release_checkout(commit: str, into: Path) -> Path:
    """The release's program at `commit` (needs the clone's history; a shallow clone is refused)."""
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", commit, *PROGRAM_FILES],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        pytest.fail(
            f"cannot read release {commit} from the repository's history "
            f"({archive.stderr.decode().strip()}); clone without --depth to run the upgrade test"
        )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    (into / ".venv").symlink_to(REPO_ROOT / ".venv")  # its `virtualenv: .venv`, as engine.program_copy links
    # The release's package beside its program: the program's folder comes first on its sys.path
    # (the venv's editable finder of this code comes last), while the policy pack, run from
    # policy/, keeps importing this code.
    (into / "components" / "hastack").rename(into / "hastack")
    return into


def advisory(folder: Path) -> Path:
    """The pack config with every rule advisory: the release was deployed under its own (older) rules,
    so rules added since (prod's minDomains, for one) judge only the upgraded preview, strictly."""
    config = json.loads((REPO_ROOT / "policy" / "config" / "prod.json").read_text())
    path = folder / "release-policy.json"
    path.write_text(json.dumps({rule: {**c, "enforcementLevel": "advisory"} for rule, c in config.items()}))
    return path


def preview_steps(output: str) -> list[dict[str, Any]]:
    """The steps of `pulumi preview --json`: the first JSON document on stdout (the engine's own
    lines, such as the stack's init, come before it)."""
    start = 0 if output.startswith("{") else output.index("\n{") + 1
    document, _ = json.JSONDecoder().raw_decode(output, start)
    steps: list[dict[str, Any]] = document.get("steps", [])
    return steps


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_preview_after_upgrading_from_the_last_release_replaces_nothing(
    engine_env: dict[str, str], stack: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    release = release_checkout(LAST_RELEASE, tmp_path / "release")
    assert engine.run("up", release, stack, "render", workdir=tmp_path, policy_config=advisory(tmp_path)) == 0
    capfd.readouterr()
    # this code with the stack file the release was deployed with: an upgrade changes the code only
    upgraded = tmp_path / "upgraded"
    upgraded.mkdir()
    for name in ("__main__.py", "Pulumi.yaml"):
        (upgraded / name).write_text((REPO_ROOT / name).read_text())
    (upgraded / f"Pulumi.{stack}.yaml").write_text((release / f"Pulumi.{stack}.yaml").read_text())
    (upgraded / ".venv").symlink_to(REPO_ROOT / ".venv")
    assert engine.run("preview", upgraded, stack, "render", ["--json"], workdir=tmp_path) == 0
    steps = preview_steps(capfd.readouterr().out)
    assert steps, "preview --json reported no steps"
    replaced = [f"{s['op']} {s['urn']}" for s in steps if s["op"] in REPLACING_OPS]
    assert replaced == [], "upgrading would replace or delete live objects:\n" + "\n".join(replaced)
    # The release's own code was deployed (not this one): since 0.3.0 every NetworkPolicy carries
    # the environment label, so those are updated in place.
    updated = {
        s["urn"].rsplit("::", 1)[-1] for s in steps if s["op"] == "update" and "NetworkPolicy" in s["urn"]
    }
    assert updated, "no NetworkPolicy updated: the release's program did not run its own package"
