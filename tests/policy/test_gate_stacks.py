"""`make policy STACK=dev|staging|prod` over this repository: the program's own stacks carry no
mandatory violation (advisories are printed for the record).
"""

from __future__ import annotations

import pytest

from hastack_tools.dev.gate import render, run_gate
from tests.policy.k8s_fixtures import ROOT


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_repository_stack_passes_the_gate(stack: str) -> None:
    if not (ROOT / f"Pulumi.{stack}.yaml").exists():
        pytest.fail(f"Pulumi.{stack}.yaml is missing")
    result = run_gate(ROOT, stack)
    print(render(result))
    assert result.config_path.name == f"{stack}.json"
    assert result.resources > 10
    assert result.mandatory == [], render(result)
