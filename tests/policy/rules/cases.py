"""A rule's fixtures, the Kyverno way: objects the rule must pass, and objects it must fail with the
parts its message must name. Each rule's test module (tests/policy/rules/test_<rule>.py) holds
PASSING and FAILING and runs them with `fixture_test`; tests/policy/test_catalog.py fails a rule
whose module lacks either list."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from hastack_policy.objects import K8sObject
from tests.policy.k8s_fixtures import PROD, Change, edit, violations

Objects = Callable[[], list[K8sObject]]


@dataclass(frozen=True)
class Case:
    """One fixture: the objects, the policy config they are judged by, and what the rule must say
    (nothing, for a passing fixture)."""

    objects: Objects
    parts: tuple[str, ...]
    config: Mapping[str, Any]
    label: str

    @property
    def passing(self) -> bool:
        return not self.parts

    def name(self) -> str:
        text = self.label or (self.parts[0] if self.parts else "passes")
        return f"{'pass' if self.passing else 'fail'}: {text[:60]}"


def passes(objects: Objects, *, config: Mapping[str, Any] = PROD, label: str = "") -> Case:
    """The rule reports nothing over `objects`."""
    return Case(objects, (), config, label)


def fails(objects: Objects, *parts: str, config: Mapping[str, Any] = PROD, label: str = "") -> Case:
    """The rule reports `objects`, and its messages name every one of `parts`."""
    assert parts, "a failing fixture names what the message must say"
    return Case(objects, parts, config, label)


def edited(base: Objects, kind: str, name: str, *changes: Change) -> Objects:
    """`base()` with `changes` applied, in turn, to the `kind` resource whose Pulumi name is `name`."""

    def objects() -> list[K8sObject]:
        found = base()
        for change in changes:
            found = edit(found, kind, change, name)
        return found

    return objects


def fixture_test(rule_id: str, passing: Sequence[Case], failing: Sequence[Case]) -> Callable[[Case], None]:
    """The test of one rule's fixtures (bind it to a `test_` name in the rule's test module)."""
    cases = [*passing, *failing]
    assert all(c.passing for c in passing) and not any(c.passing for c in failing)

    @pytest.mark.parametrize("case", cases, ids=[c.name() for c in cases])
    def test(case: Case) -> None:
        messages = violations(rule_id, case.objects(), dict(case.config))
        if case.passing:
            assert messages == [], f"{rule_id} reported a passing fixture"
            return
        assert messages, f"{rule_id} reported nothing"
        text = "\n".join(messages)
        for part in case.parts:
            assert part in text, text

    return test
