"""The fleet file is validated like a stack file: every problem at once, each with its key path, the
value found and what is allowed; the repo's Fleet.yaml is one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.ops.fleet_config import DEFAULT_FLEET, FleetError, load, parse

PROGRAM = REPO_ROOT / "tests" / "fleet" / "program"


def fleet(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "f",
        "program": str(REPO_ROOT),
        "stacks": [{"name": "dev", "cluster": "fleet-a"}, {"name": "staging", "cluster": "fleet-b"}],
        "waves": [{"name": "one", "stacks": ["dev"]}, {"name": "two", "stacks": ["staging"]}],
    }
    base.update(changes)
    return base


def problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(FleetError) as caught:
        parse(raw, REPO_ROOT / "Fleet-test.yaml")
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("invalid fleet file (")
    return [line.split("Fleet-test.yaml: ", 1)[1] for line in lines[1:]]


def test_the_repo_fleet_file_loads_with_its_waves_in_order() -> None:
    loaded = load(DEFAULT_FLEET)
    assert [w.name for w in loaded.spec.waves] == ["dev", "staging", "prod"]
    assert loaded.targets["prod"].wave == 2
    assert loaded.targets["dev"].program == REPO_ROOT
    assert loaded.spec.waves[2].gates.soak_seconds == 60


def test_the_fleet_file_of_the_docs_is_one() -> None:
    text = (REPO_ROOT / "docs" / "fleet.md").read_text()
    (block,) = re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
    loaded = parse(yaml.safe_load(block), REPO_ROOT / "Fleet-docs.yaml")
    assert [w.name for w in loaded.spec.waves] == ["dev", "staging", "prod"]
    assert loaded.targets["prod"].stack.kubeconfig == "~/.kube/prod-a.yaml"
    assert loaded.spec.waves[2].gates.available_timeout_seconds == 600


def test_defaults_gate_every_wave() -> None:
    gates = parse(fleet(), REPO_ROOT / "F.yaml").spec.waves[0].gates
    assert (gates.policy, gates.no_change_preview, gates.available_timeout_seconds) == (True, True, 300)


def test_a_misspelt_gate_is_an_error_naming_its_key_path_and_the_allowed_keys() -> None:
    raw = fleet(waves=[{"name": "one", "stacks": ["dev", "staging"], "gates": {"soakSecond": 5}}])
    (line,) = problems(raw)
    assert line.startswith("waves[0].gates.soakSecond: unknown key (did you mean 'soakSeconds'?)")
    assert "allowed keys: policy, availableTimeoutSeconds, noChangePreview, soakSeconds" in line


def test_every_problem_is_reported_at_once_with_the_value_and_what_is_allowed() -> None:
    raw = fleet(
        stacks=[{"name": "dev", "cluster": "Fleet A"}, {"name": "staging", "cluster": "b"}],
        waves=[{"name": "one", "stacks": ["dev", "staging"], "parallelism": 0}],
        onFailure="undo",
    )
    lines = problems(raw)
    assert lines == [
        "stacks[0].cluster: must be a local control plane's name (HASTACK_CLUSTER): 1-31 characters a-z, "
        "0-9 and '-', got 'Fleet A'",
        "waves[0].parallelism: must be a whole number from 1 to 32, got 0",
        "onFailure: must be one of halt, rollback, got 'undo'",
    ]


def test_waves_must_place_every_stack_once_and_name_only_stacks_that_exist() -> None:
    raw = fleet(
        waves=[{"name": "one", "stacks": ["dev", "prod-x"]}, {"name": "one", "stacks": ["dev"]}],
    )
    assert problems(raw) == [
        "waves[0].stacks[1]: 'prod-x' names no stack; stacks are: dev, staging",
        "waves[1].name: 'one' is used by an earlier wave; wave names are unique",
        "waves[1].stacks[0]: 'dev' is already in wave 'one'; a stack belongs to one wave",
        "waves: stack(s) 'staging' are in no wave; put each in one",
    ]


def test_a_stack_needs_exactly_one_cluster_target_and_its_stack_file() -> None:
    raw = fleet(
        stacks=[
            {"name": "dev", "cluster": "a", "kubeconfig": "/k"},
            {"name": "staging"},
            {"name": "qa", "cluster": "c"},
        ],
        waves=[{"name": "one", "stacks": ["dev", "staging", "qa"]}],
    )
    lines = problems(raw)
    assert lines[0].startswith("stacks[0]: set exactly one of cluster")
    assert "got cluster='a' kubeconfig='/k'" in lines[0]
    assert lines[1].startswith("stacks[1]: set exactly one of cluster")
    assert lines[2].startswith(f"stacks[2].name: 'qa' has no stack file {REPO_ROOT}/Pulumi.qa.yaml")
    assert "stacks there: dev, prod, staging" in lines[2]


def test_a_program_folder_without_pulumi_yaml_is_named(tmp_path: Path) -> None:
    raw = fleet(program=str(tmp_path))
    (line,) = problems(raw)
    assert line == f"program: {str(tmp_path)!r} holds no Pulumi.yaml; a Pulumi program folder is allowed"


def test_a_broken_or_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "Fleet.yaml"
    with pytest.raises(FleetError, match="no such fleet file"):
        load(path)
    path.write_text("name: [unclosed\n")
    with pytest.raises(FleetError, match=r"Fleet.yaml, line 2 column 1: not valid YAML"):
        load(path)
    path.write_text(yaml.safe_dump(["a"]))
    with pytest.raises(FleetError, match="a fleet file is a mapping"):
        load(path)


def test_an_error_rate_gate_needs_a_soak_and_real_local_nodes() -> None:
    found = problems(
        fleet(
            stacks=[
                {"name": "dev", "cluster": "fleet-a"},
                {"name": "staging", "kubeconfig": "~/.kube/staging.yaml"},
            ],
            waves=[
                {"name": "one", "stacks": ["dev"], "gates": {"errorRate": {"maxPercent": 2}}},
                {"name": "two", "stacks": ["staging"], "gates": {"soakSeconds": 30, "errorRate": {}}},
            ],
        )
    )
    assert found == [
        "waves[0].gates.errorRate: needs soakSeconds of at least 5 (the window its requests are sent "
        "in), got 0",
        "waves[0].gates.errorRate: stack 'dev' runs on kwok nodes (nodes: kwok), where no request is "
        "answered; allowed: nodes: real or auto",
        "waves[1].gates.errorRate: stack 'staging' runs on kubeconfig '~/.kube/staging.yaml'; requests go "
        "only to loopback, so the gate is allowed on a local control plane (cluster:) with real nodes",
    ]


def test_an_error_rate_gate_on_real_local_nodes_loads_with_its_defaults() -> None:
    loaded = parse(
        fleet(
            stacks=[
                {"name": "dev", "cluster": "fleet-a", "nodes": "real"},
                {"name": "staging", "cluster": "b"},
            ],
            waves=[
                {
                    "name": "one",
                    "stacks": ["dev"],
                    "gates": {"soakSeconds": 10, "errorRate": {"maxPercent": 0.5}},
                },
                {"name": "two", "stacks": ["staging"]},
            ],
        ),
        REPO_ROOT / "Fleet-test.yaml",
    )
    rate = loaded.spec.waves[0].gates.error_rate
    assert rate is not None and (rate.max_percent, rate.requests_per_second) == (0.5, 5.0)
    assert loaded.spec.waves[1].gates.error_rate is None
    assert problems(
        fleet(
            waves=[{"name": "one", "stacks": ["dev", "staging"], "gates": {"errorRate": {"maxPercent": 101}}}]
        )
    )[0].startswith("waves[0].gates.errorRate.maxPercent: ")


AT = "(hastack:apps[0].egress[0].stack in Pulumi.caller.yaml)"
"""Where the caller's stack file references the first stack it calls."""


def referencing(tmp_path: Path, uses: dict[str, list[str]], **changes: Any) -> dict[str, Any]:
    """A fleet of a program whose stack files reference other stacks (`uses`: stack -> the stacks its
    app calls, as `egress[]` entries with `stack`)."""
    (tmp_path / "Pulumi.yaml").write_text("name: hastack\nruntime: python\n")
    for name, used in uses.items():
        egress = [{"stack": u, "app": "api"} for u in used]
        config = {"config": {"hastack:apps": [{"name": "web", "egress": egress}]}}
        (tmp_path / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(config))
    raw = fleet(
        program=str(tmp_path),
        stacks=[{"name": n, "cluster": "fleet-a"} for n in uses],
        waves=[{"name": "one", "stacks": ["callee"]}, {"name": "two", "stacks": ["caller"]}],
    )
    raw.update(changes)
    return raw


def test_references_are_derived_from_the_stack_files_and_shown_with_their_waves(tmp_path: Path) -> None:
    loaded = parse(referencing(tmp_path, {"callee": [], "caller": ["callee"]}), tmp_path / "F.yaml")
    (reference,) = loaded.targets["caller"].uses
    assert (reference.stack, reference.key) == ("callee", "hastack:apps[0].egress[0].stack")
    assert loaded.references("caller") == "callee (wave one)"
    assert loaded.references("callee") == ""


def test_a_stack_is_destroyed_before_the_stacks_it_references(tmp_path: Path) -> None:
    # the fleet refuses a reference to the same or a later wave (below), and destroy runs the waves
    # last first: so a stack's readers are gone before it is (reversed order would fail this)
    uses = {"callee": [], "middle": ["callee"], "caller": ["middle", "callee"]}
    waves = [{"name": n, "stacks": [n]} for n in ("callee", "middle", "caller")]
    loaded = parse(referencing(tmp_path, uses, waves=waves), tmp_path / "F.yaml")
    order = [name for w in loaded.destroy_waves() for name in loaded.spec.waves[w].stacks]
    assert order == ["caller", "middle", "callee"]
    for name, target in loaded.targets.items():
        for reference in target.uses:
            assert order.index(name) < order.index(reference.stack)


def test_a_reference_to_the_same_or_a_later_wave_names_both_stacks_and_waves(tmp_path: Path) -> None:
    same = referencing(
        tmp_path,
        {"callee": [], "caller": ["callee"]},
        waves=[{"name": "one", "stacks": ["callee", "caller"]}],
    )
    assert problems(same) == [
        f"waves[0].stacks[1]: 'caller' (wave 'one') references stack 'callee' {AT}, which deploys in wave "
        "'one'; a referenced stack deploys in an earlier wave, so its outputs exist when 'caller' reads them"
    ]
    later = referencing(
        tmp_path,
        {"callee": [], "caller": ["callee"]},
        waves=[{"name": "one", "stacks": ["caller"]}, {"name": "two", "stacks": ["callee"]}],
    )
    assert problems(later)[0].startswith(
        f"waves[0].stacks[0]: 'caller' (wave 'one') references stack 'callee' {AT}, which deploys in "
        "wave 'two'"
    )


def test_a_reference_to_a_stack_outside_the_fleet_or_another_cluster_is_refused(tmp_path: Path) -> None:
    raw = referencing(tmp_path, {"callee": [], "caller": ["callee", "billing"]})
    raw["stacks"][0]["cluster"] = "fleet-b"
    assert problems(raw) == [
        f"stacks[1]: 'caller' references stack 'callee' {AT}, which runs on cluster 'fleet-b', not cluster "
        "'fleet-a'; a referenced stack runs on the same cluster (its apps are reached by cluster-internal "
        "names)",
        "stacks[1]: 'caller' references stack 'billing' (hastack:apps[0].egress[1].stack in "
        "Pulumi.caller.yaml), no stack of the fleet; a stack references another stack of the fleet: callee",
    ]
