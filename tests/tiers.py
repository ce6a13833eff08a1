"""What the slow tiers (e2e, faults, traffic, fleet) share: a marker for every test under the tier's
folder, and their figures printed after the run and kept in build/<tier>/figures.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hastack_tools.common.checkout import REPO_ROOT


def mark_tier(items: list[pytest.Item], folder: Path, marker: pytest.MarkDecorator) -> None:
    """`marker` on every collected test below `folder` (so `-m "not <tier>"` leaves the tier out)."""
    for item in items:
        if folder in Path(str(item.fspath)).parents:
            item.add_marker(marker)


def figures_file(tier: str) -> Path:
    return REPO_ROOT / "build" / tier / "figures.json"


def report_figures(terminalreporter: Any, tier: str, figures: dict[str, Any]) -> None:
    """Shown after the run, so the numbers need no `-s`, and kept for the docs and the closing notes."""
    if not figures:
        return
    text = json.dumps(figures, indent=1, sort_keys=True)
    path = figures_file(tier)
    terminalreporter.section(f"{tier} figures")
    terminalreporter.write_line(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    terminalreporter.write_line(f"(also in {path})")
