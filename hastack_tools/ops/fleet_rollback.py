"""Where a fleet stack goes back to when its wave fails (`onFailure: rollback`): the git commit at which
it last passed every gate.

Pulumi state holds the resources a program made, not the program, so a rollback is an `up` of the
program as it was: the commit recorded when the stack passed (only from a clean tree: uncommitted edits
could not be found again) is checked out in a worktree of its own and deployed with the same stack,
backend and state. The program's libraries come from its virtualenv, as for any `up`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path


class NoRevisionError(RuntimeError):
    """The program cannot be found again at a commit (not in git, or uncommitted edits)."""


@dataclass(frozen=True)
class Revision:
    """A program folder at a commit: the repository, the commit, the folder's path inside it."""

    repo: str
    commit: str
    program: str

    @property
    def short(self) -> str:
        return self.commit[:12]


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise NoRevisionError(f"git {' '.join(args)} in {cwd}: {done.stderr.strip() or done.returncode}")
    return done.stdout.strip()


def revision_of(program: Path) -> Revision:
    """The commit the program folder is at; NoRevisionError when that would not bring it back."""
    try:
        top = Path(_git(program, "rev-parse", "--show-toplevel"))
    except (NoRevisionError, OSError) as error:
        raise NoRevisionError(f"{program} is not in a git repository ({error})") from None
    edited = _git(top, "status", "--porcelain", "--untracked-files=no").splitlines()
    if edited:
        raise NoRevisionError(
            f"{len(edited)} tracked file(s) with uncommitted changes in {top} (first: {edited[0].strip()})"
        )
    relative = program.resolve().relative_to(top.resolve())
    return Revision(str(top), _git(top, "rev-parse", "HEAD"), str(relative))


@dataclass(frozen=True)
class GoodRevisions:
    """`<fleet folder>/good.json`: per stack, the revision at which it last passed every gate. Kept
    across rollouts (a new rollout's progress record starts empty; this does not)."""

    folder: Path

    @property
    def file(self) -> Path:
        return self.folder / "good.json"

    def read(self) -> dict[str, dict[str, str]]:
        return dict(json.loads(self.file.read_text())) if self.file.exists() else {}

    def get(self, stack: str) -> Revision | None:
        found = self.read().get(stack)
        return Revision(**{k: found[k] for k in ("repo", "commit", "program")}) if found else None

    def remember(self, stack: str, revision: Revision, rollout: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "good.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # the stacks of a wave pass in parallel
            records = self.read()
            records[stack] = {**asdict(revision), "rollout": rollout}
            temporary = self.file.with_suffix(".tmp")
            temporary.write_text(json.dumps(records, indent=1, sort_keys=True))
            os.replace(temporary, self.file)


@contextlib.contextmanager
def checked_out(revision: Revision, into: Path, venv_from: Path) -> Iterator[Path]:
    """The program folder of `revision` in a worktree at `into` (removed afterwards), its `.venv` the
    program's own (a virtualenv is not in git)."""
    repo = Path(revision.repo)
    if into.exists():
        _git(repo, "worktree", "remove", "--force", str(into))
    _git(repo, "worktree", "add", "--detach", str(into), revision.commit)
    try:
        program = into / revision.program
        venv = venv_from / ".venv"
        if venv.exists() and not (program / ".venv").exists():
            (program / ".venv").symlink_to(venv.resolve(), target_is_directory=True)
        yield program
    finally:
        _git(repo, "worktree", "remove", "--force", str(into))
