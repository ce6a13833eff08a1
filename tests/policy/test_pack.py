"""`python -m hastack_policy.pack <dir>`: the pack folder another repository points the CLI at.
(The integration tier runs such a folder through `pulumi preview`: tests/integration/test_examples.py.)"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from hastack_policy import PACK_VERSION, pack
from hastack_tools.common.checkout import REPO_ROOT


def test_the_pack_folder_runs_the_installed_rules_with_the_current_venv(tmp_path: Path) -> None:
    folder = tmp_path / "policy"
    assert pack.main([str(folder)]) == 0
    written = yaml.safe_load((folder / "PulumiPolicy.yaml").read_text())
    assert written["runtime"] == {
        "name": "python",
        "options": {"toolchain": "pip", "virtualenv": str(Path(sys.prefix).resolve())},
    }
    ours = yaml.safe_load((REPO_ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    assert (written["version"], written["description"]) == (ours["version"], ours["description"])
    assert str(written["version"]) == PACK_VERSION
    assert (folder / "__main__.py").read_text() == pack.ENTRY_POINT
    for source in sorted((REPO_ROOT / "policy" / "config").glob("*.json")):
        assert json.loads((folder / "config" / source.name).read_text()) == json.loads(source.read_text())
    assert sorted(p.name for p in (folder / "config").iterdir()) == [
        "dev.json",
        "outside.json",
        "prod.json",
        "staging.json",
    ]


def test_the_repo_pack_and_a_written_pack_serve_the_same_way() -> None:
    entry = (REPO_ROOT / "policy" / "__main__.py").read_text()
    assert "from hastack_policy.pack import serve\n\nserve()\n" in entry
    assert pack.ENTRY_POINT.endswith("from hastack_policy.pack import serve\n\nserve()\n")


def test_a_file_in_the_way_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "policy"
    blocker.write_text("")
    assert pack.main([str(blocker)]) == 2
    assert f"error: {blocker}: exists and is not a folder" in capsys.readouterr().err


def test_a_python_outside_any_venv_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "prefix", sys.base_prefix)
    with pytest.raises(pack.PackError, match="is not a virtualenv's python"):
        pack.current_virtualenv()
