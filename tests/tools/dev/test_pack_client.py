"""The pack started the way the engine (and the gate) starts it, spoken to over the analyzer
gRPC protocol: GetAnalyzerInfo lists every rule with its level and config schema, Configure and
Analyze/AnalyzeStack behave, and unknowns over the wire produce nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import pytest
import yaml

from hastack.wire import UNKNOWN
from hastack_policy import PACK_NAME, PACK_VERSION, RULES
from hastack_policy.objects import K8sObject
from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.common.policy_config import PolicyConfigError
from hastack_tools.dev.pack_client import PolicyPackProcess, ResourceView, load_config_file, resolve_config
from tests.policy.k8s_fixtures import container, edit, good_stack

PACK = REPO_ROOT / "policy"


@pytest.fixture(scope="module")
def pack() -> Iterator[PolicyPackProcess]:
    with PolicyPackProcess(
        PACK, project="proj", stack="test", config={"proj:x": "1"}, echo_logs=False
    ) as process:
        yield process


def _views(objs: Sequence[K8sObject]) -> list[ResourceView]:
    return [ResourceView(urn=o.urn, type=o.type, name=o.name, inputs=o.props, outputs=o.props) for o in objs]


def _configure(pack: PolicyPackProcess, env: str) -> None:
    path = PACK / "config" / f"{env}.json"
    pack.configure(resolve_config(pack.info(), load_config_file(path), str(path)))


def test_info_lists_every_rule_with_level_and_schema(pack: PolicyPackProcess) -> None:
    info = pack.info()
    assert info.name == PACK_NAME == "hastack-ha"
    assert (
        info.version
        == PACK_VERSION
        == str(yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())["version"])
    )
    assert info.supports_config
    assert [p.name for p in info.policies] == [r.id for r in RULES]
    for policy, rule in zip(info.policies, RULES, strict=True):
        assert policy.level == rule.default_enforcement
        assert policy.severity == rule.severity
        assert policy.remediation == rule.remediation
        assert policy.description == rule.description
        assert policy.policy_type == rule.scope
        assert policy.config_schema == json.loads(json.dumps(dict(rule.config)))
        assert policy.url == f"policy/README.md#{rule.id}"


def test_good_stack_has_no_diagnostics(pack: PolicyPackProcess) -> None:
    _configure(pack, "prod")
    assert pack.analyze(_views(good_stack())) == []


def test_violations_carry_level_severity_and_message(pack: PolicyPackProcess) -> None:
    bad = edit(
        good_stack(),
        "Deployment",
        lambda p: container(p)["securityContext"].update(readOnlyRootFilesystem=False),
    )
    _configure(pack, "prod")
    (diagnostic,) = pack.analyze(_views(bad))
    assert (diagnostic.policy, diagnostic.level, diagnostic.severity) == (
        "read-only-root-filesystem",
        "mandatory",
        "medium",
    )
    assert diagnostic.pack == "hastack-ha"
    assert diagnostic.urn.endswith("kubernetes:apps/v1:Deployment::web")
    assert "readOnlyRootFilesystem is false" in diagnostic.detail
    _configure(pack, "dev")
    (diagnostic,) = pack.analyze(_views(bad))
    assert diagnostic.level == "advisory"


def test_stack_policy_diagnostics_name_the_resource(pack: PolicyPackProcess) -> None:
    bad = edit(
        good_stack(), "PodDisruptionBudget", lambda p: p["spec"].update(maxUnavailable=None, minAvailable=3)
    )
    _configure(pack, "prod")
    found = {(d.policy, d.urn.rsplit("::", 1)[-1]) for d in pack.analyze(_views(bad))}
    assert found == {("pdb-allows-eviction", "web")}


def test_unknowns_over_the_wire_are_silent(pack: PolicyPackProcess) -> None:
    def unknowns(props: dict[str, object]) -> None:
        spec = props["spec"]
        assert isinstance(spec, dict)
        spec["template"]["spec"]["containers"][0]["securityContext"] = UNKNOWN
        spec["template"]["spec"]["containers"][0]["image"] = UNKNOWN
        spec["template"]["metadata"]["labels"]["app.kubernetes.io/instance"] = UNKNOWN

    _configure(pack, "prod")
    assert pack.analyze(_views(edit(good_stack(), "Deployment", unknowns))) == []


def test_config_errors_are_reported() -> None:
    with PolicyPackProcess(PACK, project="proj", stack="test", echo_logs=False) as process:
        info = process.info()
    with pytest.raises(PolicyConfigError, match="unknown policies"):
        resolve_config(info, {"no-such-rule": "mandatory"}, "x.json")
    with pytest.raises(PolicyConfigError, match=r"min-replicas\.minReplicas"):
        resolve_config(info, {"min-replicas": {"minReplicas": "three"}}, "x.json")
    with pytest.raises(PolicyConfigError, match="not one of"):
        resolve_config(info, {"min-replicas": "sometimes"}, "x.json")
    resolved = resolve_config(info, {"all": "disabled", "min-replicas": {"minReplicas": 5}}, "x.json")
    assert resolved["min-replicas"] == ("disabled", {"minReplicas": 5})
    assert resolved["pss-restricted"] == ("disabled", {"minRunAsUser": 10000})


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_environment_configs_name_every_rule(env: str) -> None:
    config = load_config_file(PACK / "config" / f"{env}.json")
    assert set(config) == {r.id for r in RULES}
