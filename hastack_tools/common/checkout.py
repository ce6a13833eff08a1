"""Where this checkout is: the one name for the repository root (what the wheel installs has none)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The repository root when hastack_tools runs from a checkout (its policy/, toolchain/, cluster/)."""
