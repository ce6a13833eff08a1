"""Which policy config judges a stack (hastack_tools.common.policy_config, shared by the gate, the
engine and CI's --print-config): an explicit file wins, else the strictest environment declared,
else the outside profile; an environment that is not one of hastack's is an error naming where."""

from __future__ import annotations

from pathlib import Path

import pytest

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.common.policy_config import PolicyConfigError, choose_policy_config, stack_policy_config

PACK = REPO_ROOT / "policy"


def test_an_explicit_file_wins() -> None:
    chosen = choose_policy_config({"prod": ["the stack"]}, Path("x.json"), PACK)
    assert (chosen.path, chosen.environment) == (Path("x.json"), None)


def test_nothing_declared_is_the_outside_profile() -> None:
    chosen = choose_policy_config({}, None, PACK)
    assert chosen.path == PACK / "config" / "outside.json"
    assert "programs that are not hastack's own" in chosen.reason


def test_the_strictest_declared_environment_wins_and_the_others_are_named() -> None:
    chosen = choose_policy_config(
        {"dev": ["label on Namespace a"], "prod": ["hastack:environment"]}, None, PACK
    )
    assert (chosen.path, chosen.environment) == (PACK / "config" / "prod.json", "prod")
    assert chosen.reason == (
        "environment prod from hastack:environment; the strictest, over dev from label on Namespace a"
    )


def test_an_unknown_environment_names_where_it_was_declared() -> None:
    with pytest.raises(PolicyConfigError, match=r"unknown environment 'qa' from label x; allowed: dev"):
        choose_policy_config({"qa": ["label x"]}, None, PACK)


def test_a_stack_file_alone_picks_its_environments_config() -> None:
    assert stack_policy_config(REPO_ROOT, "staging", None, PACK) == PACK / "config" / "staging.json"
