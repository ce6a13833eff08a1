"""`make policy STACK=dev|staging|prod` over this repository: the program's own stacks carry no
mandatory violation (advisories are printed for the record).
"""

from __future__ import annotations

import pytest

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.dev.gate import render, run_gate


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_repository_stack_passes_the_gate(stack: str) -> None:
    if not (REPO_ROOT / f"Pulumi.{stack}.yaml").exists():
        pytest.fail(f"Pulumi.{stack}.yaml is missing")
    result = run_gate(REPO_ROOT, stack)
    print(render(result))
    assert result.config_path.name == f"{stack}.json"
    assert result.resources > 10
    assert result.mandatory == [], render(result)


@pytest.mark.parametrize(
    ("program", "stack"),
    [
        (".", "staging"),
        (".", "prod"),
        ("tests/programs/bad_cross", "ci"),
        ("tests/programs/bad_security", "ci"),
    ],
)
def test_in_process_evaluation_finds_what_the_analyzer_finds(program: str, stack: str) -> None:
    """`hastack_policy.evaluate` (the agreement property test's judge) reports exactly what the pack
    reports over the analyzer protocol: on the repo's stacks (advice only) and on bad programs."""
    import json

    from hastack_policy import evaluate
    from hastack_tools.common.policy_config import DEFAULT_PACK, stack_policy_config
    from hastack_tools.dev.mockrun import run_program
    from hastack_tools.dev.pack_client import (
        PolicyPackProcess,
        load_config_file,
        objects_from_views,
        resolve_config,
        views_from_records,
    )

    run = run_program(REPO_ROOT / program, stack)  # one run for both judges: auto-names differ between runs
    views = views_from_records(run.resources)
    path = stack_policy_config(REPO_ROOT / program, stack, None, DEFAULT_PACK)
    with PolicyPackProcess(DEFAULT_PACK, project=run.project, stack=stack) as pack:
        pack.configure(resolve_config(pack.info(), load_config_file(path), str(path)))
        diagnostics = pack.analyze(views)
    config = json.loads(path.read_text())
    found = {(v.rule, v.level, v.urn, v.message) for v in evaluate(objects_from_views(views), config)}
    assert found == {(d.policy, d.level, d.urn, d.detail) for d in diagnostics}
    assert found, "the comparison needs findings to compare"
