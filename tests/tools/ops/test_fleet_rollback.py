"""What a fleet rollback returns to: the commit a stack passed at, only from a clean tree, found again in
a worktree of its own with the program's virtualenv."""

from __future__ import annotations

from pathlib import Path

import pytest

from hastack_tools.ops.fleet_rollback import GoodRevisions, NoRevisionError, checked_out, revision_of
from tests.git import git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "program").mkdir(parents=True)
    (root / "program" / "Pulumi.dev.yaml").write_text("config: {replicas: 2}\n")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "good")
    return root


def test_a_clean_tree_gives_its_commit_and_the_programs_place_in_it(repo: Path) -> None:
    (repo / "program" / ".venv").mkdir()  # untracked: not an edit
    revision = revision_of(repo / "program")
    assert revision.commit == git(repo, "rev-parse", "HEAD")
    assert (Path(revision.repo), revision.program) == (repo.resolve(), "program")


def test_uncommitted_edits_or_no_git_give_no_revision_saying_why(repo: Path, tmp_path: Path) -> None:
    (repo / "program" / "Pulumi.dev.yaml").write_text("config: {replicas: 1}\n")
    with pytest.raises(NoRevisionError, match=r"1 tracked file.*uncommitted changes.*Pulumi\.dev\.yaml"):
        revision_of(repo / "program")
    (tmp_path / "loose").mkdir()
    with pytest.raises(NoRevisionError, match="not in a git repository"):
        revision_of(tmp_path / "loose")


def test_the_good_commit_is_checked_out_apart_with_the_programs_venv_and_removed(
    repo: Path, tmp_path: Path
) -> None:
    good = revision_of(repo / "program")
    (repo / "program" / "Pulumi.dev.yaml").write_text("config: {replicas: 9}\n")
    git(repo, "commit", "-qam", "bad")
    (repo / "program" / ".venv").mkdir()
    into = tmp_path / "rollback" / "dev"
    with checked_out(good, into, repo / "program") as program:
        assert (program / "Pulumi.dev.yaml").read_text() == "config: {replicas: 2}\n"
        assert (program / ".venv").resolve() == (repo / "program" / ".venv").resolve()
    assert not into.exists()
    assert "rollback" not in git(repo, "worktree", "list")
    assert (repo / "program" / "Pulumi.dev.yaml").read_text() == "config: {replicas: 9}\n"  # untouched


def test_good_revisions_outlive_a_rollout_per_stack(repo: Path, tmp_path: Path) -> None:
    good = GoodRevisions(tmp_path / "fleet")
    assert good.get("dev") is None
    revision = revision_of(repo / "program")
    good.remember("dev", revision, "r1")
    assert GoodRevisions(tmp_path / "fleet").get("dev") == revision
    assert good.read()["dev"]["rollout"] == "r1"
