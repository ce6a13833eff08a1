"""The fleet benchmark's fleet is a valid fleet of S stacks of A apps each, in one wave."""

from __future__ import annotations

from pathlib import Path

import yaml

from benchmarks import fleet_scale
from hastack_tools.ops.fleet_config import load


def test_the_benchmark_fleet_loads_with_its_stacks_in_one_bounded_wave(tmp_path: Path) -> None:
    loaded = load(fleet_scale.write_fleet(tmp_path, stacks=3, apps=2, parallelism=2))
    (wave,) = loaded.spec.waves
    assert wave.stacks == ["fb0", "fb1", "fb2"] and wave.parallelism == 2
    assert not wave.gates.policy and not wave.gates.no_change_preview  # the pack still runs in `up`
    assert {t.stack.cluster for t in loaded.targets.values()} == {fleet_scale.CLUSTER}
    config = yaml.safe_load((tmp_path / "program" / "Pulumi.fb2.yaml").read_text())["config"]
    assert config["hastack:namespace"] == "fleetbench-2"
    assert len(config["hastack:apps"]) == 2
