"""policy/README.md and policy/config/<env>.json are generated: this fails when one is stale."""

import json

import pytest

from hastack.config.profiles import ENVIRONMENTS
from hastack_policy import RULES
from hastack_tools.dev.docs import main
from hastack_tools.dev.policy_docs import CONFIG_DIR, README, generate, generated_files


def test_policy_readme_is_current() -> None:
    assert README.read_text() == generate(), "policy/README.md is stale: run make docs"


@pytest.mark.parametrize("environment", list(ENVIRONMENTS))
def test_committed_policy_config_is_the_generated_one(environment: str) -> None:
    path = CONFIG_DIR / f"{environment}.json"
    assert path.read_text() == generated_files()[path], f"{path} is stale: run make docs"


def test_policy_config_carries_the_profile_floors() -> None:
    """The values the pack enforces are the profile's, environment by environment."""
    for environment, rules in ENVIRONMENTS.items():
        config = json.loads((CONFIG_DIR / f"{environment}.json").read_text())
        assert config["min-replicas"]["minReplicas"] == rules.min_replicas
        assert config["hpa-replica-bounds"]["minReplicas"] == rules.min_replicas
        assert config["image-pinned"]["requireDigest"] is rules.require_digest
        assert config["pss-restricted"]["minRunAsUser"] == rules.min_run_as_user
        assert config["pdb-allows-eviction"]["minAvailable"] == rules.min_available_during_disruption
        assert config["spread-or-anti-affinity"]["minDomains"] == (rules.zone_min_domains or 0)
        assert config["probes-present"]["enforcementLevel"] == rules.hardening
        assert config["resource-units"]["enforcementLevel"] == "mandatory"
        assert config["priority-class-set"]["enforcementLevel"] == "advisory"
        assert set(config) == {rule.id for rule in RULES}


def test_check_mode_reports_a_stale_config(monkeypatch: pytest.MonkeyPatch) -> None:
    import hastack_tools.dev.policy_docs as docs

    files = generated_files()
    stale = dict(files)
    path = CONFIG_DIR / "staging.json"
    stale[path] = files[path].replace('"mandatory"', '"advisory"', 1)
    monkeypatch.setattr(docs, "generated_files", lambda: stale)
    assert main(["--check"]) == 1
    monkeypatch.setattr(docs, "generated_files", lambda: files)
    assert main(["--check"]) == 0


def test_policy_readme_lists_every_rule_with_remediation() -> None:
    text = README.read_text()
    for rule in RULES:
        assert f"### {rule.id}\n" in text
        assert rule.remediation in text
