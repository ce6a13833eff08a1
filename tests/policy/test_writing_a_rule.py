"""The "Writing a rule" section of policy/README.md runs as written: its rule module is a rule the
catalog can serve (its check named after it, its kinds declared), and its fixture module, run as a
rule's fixtures run, passes and fails the rule as it says."""

from __future__ import annotations

import re
import types
from typing import Any

import pytest

import hastack_policy
from hastack_policy.rule import Rule
from hastack_tools.dev.policy_docs import README
from tests.policy import k8s_fixtures
from tests.policy.rules.cases import Case


def blocks() -> list[str]:
    section = README.read_text().split("\n## Writing a rule\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def module(name: str, code: str) -> types.ModuleType:
    loaded = types.ModuleType(name)
    exec(compile(code, f"policy/README.md ({name})", "exec"), loaded.__dict__)
    return loaded


def test_the_section_shows_a_rule_and_its_fixtures() -> None:
    rule_block, fixture_block = blocks()
    assert "RULE = Rule(" in rule_block
    assert "test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)" in fixture_block


def test_the_rule_of_the_section_is_served_and_judges_its_fixtures(monkeypatch: pytest.MonkeyPatch) -> None:
    rule_block, fixture_block = blocks()
    rules = module("hastack_policy.rules.hpa_max_replicas_capped", rule_block)
    rule: Any = rules.RULE
    assert isinstance(rule, Rule)
    assert rule.check.__name__ == rule.id.replace("-", "_")
    assert rule.looks_at("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    assert not rule.looks_at("kubernetes:apps/v1:Deployment")
    assert rule.to_policy().name == rule.id
    monkeypatch.setitem(hastack_policy.RULES_BY_ID, rule.id, rule)  # the dict the fixtures read
    fixtures = module("tests.policy.rules.test_hpa_max_replicas_capped", fixture_block)
    cases: list[Case] = [*fixtures.PASSING, *fixtures.FAILING]
    assert [c.passing for c in cases] == [True, False]
    for case in cases:
        fixtures.test_fixtures(case)
    (message,) = k8s_fixtures.violations(rule.id, cases[1].objects())
    assert message.endswith("at most 100: lower spec.maxReplicas")
