"""policy/README.md is generated from the rule catalog: this fails when it is stale."""

from hastack_policy import RULES
from hastack_tools.dev.policy_docs import README, generate


def test_policy_readme_is_current() -> None:
    assert README.read_text() == generate(), (
        "policy/README.md is stale: run python -m hastack_tools.dev.policy_docs"
    )


def test_policy_readme_lists_every_rule_with_remediation() -> None:
    text = README.read_text()
    for rule in RULES:
        assert f"### {rule.id}\n" in text
        assert rule.remediation in text
