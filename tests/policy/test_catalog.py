"""The catalog holds together: every rule is one module named after it (its check a function of the
same name, its kinds declared once, its url its section of the generated reference), and every rule
has a test module beside it with fixtures it must pass and fixtures it must fail (Kyverno's pair);
the good stack passes all of them, and dev is laxer than prod."""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

import pytest

import hastack_policy.rules
import tests.policy.rules
from hastack_policy import RULES, RULES_BY_ID
from hastack_policy.rule import RULES_DOC, Rule
from hastack_tools.common.checkout import REPO_ROOT
from tests.policy.k8s_fixtures import C0, DEV, PROD, all_violations, edit, good_stack, set_at, violations
from tests.policy.rules.cases import Case

UNFILTERED = {"no-default-namespace"}
"""Rules that read every Kubernetes kind (kinds None)."""


def module_name(rule: Rule) -> str:
    return rule.id.replace("-", "_")


def modules(package: ModuleType, prefix: str = "") -> set[str]:
    return {
        name.removeprefix(prefix)
        for _, name, _ in pkgutil.iter_modules(package.__path__)
        if name.startswith(prefix) and name != "cases"
    }


def fixture_problems(rule_ids: list[str]) -> list[str]:
    """What each rule's fixture module lacks: the module itself, its PASSING or FAILING fixtures, the
    test that runs them."""
    problems = []
    for rule_id in rule_ids:
        name = f"tests.policy.rules.test_{rule_id.replace('-', '_')}"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            problems.append(f"{rule_id}: no fixture module {name}")
            continue
        for kind, passing in (("PASSING", True), ("FAILING", False)):
            cases = getattr(module, kind, None)
            if not cases or not all(isinstance(c, Case) and c.passing is passing for c in cases):
                problems.append(f"{rule_id}: {name}.{kind} holds no {kind.lower()} fixture")
        if not callable(getattr(module, "test_fixtures", None)):
            problems.append(f"{rule_id}: {name} runs no fixtures (test_fixtures = fixture_test(...))")
    return problems


def test_every_rule_is_one_module_named_after_it_with_its_check() -> None:
    assert modules(hastack_policy.rules) == {module_name(rule) for rule in RULES}
    for rule in RULES:
        module = importlib.import_module(f"hastack_policy.rules.{module_name(rule)}")
        assert module.RULE is rule
        assert rule.check.__name__ == module_name(rule), f"{rule.id}: the check is named after the rule"
        assert rule.check.__module__ == module.__name__


def test_every_rule_has_fixtures_it_passes_and_fixtures_it_fails() -> None:
    assert fixture_problems([rule.id for rule in RULES]) == []
    assert modules(tests.policy.rules, "test_") == {module_name(rule) for rule in RULES}


def test_a_rule_without_fixtures_is_reported() -> None:
    """Guards the test above with a rule that has no fixture module."""
    assert fixture_problems(["made-up-rule"]) == [
        "made-up-rule: no fixture module tests.policy.rules.test_made_up_rule"
    ]


@pytest.mark.parametrize("rule", [r for r in RULES if r.scope == "resource"], ids=lambda r: r.id)
def test_a_resource_rule_declares_its_kinds_once(rule: Rule) -> None:
    """The pack shows a rule only the kinds it declared (with their API groups): its check never tests
    the kind again."""
    source = (REPO_ROOT / "policy" / "hastack_policy" / "rules" / f"{module_name(rule)}.py").read_text()
    assert not re.search(r"\bis_(kind|workload)\(obj\b", source)
    assert (rule.kinds is None) == (rule.id in UNFILTERED)


def test_every_rule_links_its_section_of_the_generated_reference() -> None:
    reference = (REPO_ROOT / RULES_DOC).read_text()
    for rule in RULES:
        assert rule.url == f"{RULES_DOC}#{rule.id}"
        assert f"\n### {rule.id}\n" in reference


def test_every_rule_carries_its_metadata() -> None:
    for rule in RULES:
        assert rule.id == rule.id.lower() and " " not in rule.id
        assert rule.description.endswith(".")
        assert rule.severity in {"low", "medium", "high", "critical"}
        assert len(rule.remediation) > 20
        assert rule.default_enforcement in {"advisory", "mandatory"}
        for key, schema in rule.config.items():
            assert "default" in schema, f"{rule.id}.{key} has no default"
            assert "type" in schema


def test_good_stack_passes_every_rule_in_every_environment() -> None:
    assert all_violations(good_stack(), PROD) == {}
    assert all_violations(good_stack(), DEV) == {}


def test_dev_is_laxer_than_prod() -> None:
    web_with_tag = edit(good_stack(), "Deployment", set_at(f"{C0}.image", "ghcr.io/acme/web:1.2.3"))
    assert violations("image-pinned", web_with_tag, DEV) == []
    two = edit(good_stack(), "Deployment", set_at("spec.replicas", 2), "api")
    assert violations("min-replicas", two, DEV) == []
    assert violations("min-replicas", two, PROD)
    advice = {rule.id for rule in RULES if rule.tier == "advice"}
    assert advice == {"priority-class-set", "ephemeral-storage-bounded", "image-tag-fixed"}
    assert {k for k, v in PROD.items() if v["enforcementLevel"] != "mandatory"} == advice
    assert any(v["enforcementLevel"] == "advisory" for k, v in DEV.items() if k not in advice)
    assert set(RULES_BY_ID) == set(PROD) == set(DEV)
