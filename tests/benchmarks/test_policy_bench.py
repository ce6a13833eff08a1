"""The policy benchmark compares like with like: the floor pack answers the same requests and
evaluates nothing, the layer and pulumi-policy's own path give the same diagnostics."""

from __future__ import annotations

from benchmarks import policy_bench


def test_floor_layer_and_stock_path_answer_the_same_requests() -> None:
    result = policy_bench.run(apps=2, repeat=1)
    assert result["resources"] > 15  # two apps' objects, components and the namespace
    assert result["floor"]["diagnostics"] == 0  # its one policy is disabled: nothing evaluated
    assert result["diagnostics"] == result["stock"]["diagnostics"] > 0  # prod rules fire on the bench config
    assert result["pack_start_cpu_seconds"] > 0  # measured, not asserted: a benchmark figure
    assert result["with_remediate_diagnostics"] == result["diagnostics"]  # Remediate changes no verdict
    assert result["stock"]["with_remediate_diagnostics"] == result["stock"]["diagnostics"]
