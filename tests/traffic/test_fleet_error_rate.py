"""The fleet's error-rate gate with real requests: a canary wave whose app answers 500 to a share of
requests halts the rollout at that gate, naming the stack, the share and the statuses, and the next
wave is not touched; the same fleet file with the app fixed resumes, passes the gate with 0 failed and
rolls the next wave out. The halt is the counterfactual of the pass: only the app's error rate differs."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from hastack_tools.common.checkout import REPO_ROOT
from tests.traffic.conftest import TRAFFIC_CLUSTER, TrafficCluster, record
from tests.traffic.stacks import Stack, echo_app

FLEET = f"""\
name: errgate
program: program
stacks:
  - {{name: canary, cluster: {TRAFFIC_CLUSTER}, nodes: real}}
  - {{name: rest, cluster: {TRAFFIC_CLUSTER}, nodes: real}}
waves:
  - name: canary
    stacks: [canary]
    gates:
      policy: false
      noChangePreview: false
      soakSeconds: 12
      errorRate: {{maxPercent: 2, requestsPerSecond: 8}}
  - name: rest
    stacks: [rest]
    gates: {{policy: false, noChangePreview: false, soakSeconds: 6, errorRate: {{maxPercent: 2}}}}
"""


def fleet(traffic: TrafficCluster, root: Path, command: str) -> tuple[int, str]:
    """`hastack fleet <command>` as a user runs it, its state under `root`."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / "hastack"), "fleet", command, "--fleet", str(root / "Fleet.yaml")],
        env={**traffic.env, "HASTACK_WORKDIR": str(root / "work")},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def namespace_exists(traffic: TrafficCluster, name: str) -> bool:
    return traffic.cluster.kubectl("get", "namespace", name, check=False).returncode == 0


def state(root: Path) -> dict[str, Any]:
    return dict(json.loads((root / "work" / "fleet" / "errgate" / "state.json").read_text()))


def web_stack(traffic: TrafficCluster, root: Path, name: str) -> Stack:
    """Stack `name` of the fleet: two replicas of the test app behind <name>.errgate.local."""
    app = echo_app(traffic, "web", host=f"{name}.errgate.local", replicas=2)
    return Stack(traffic, root, f"errgate-{name}", [app], stack=name)


def test_a_wave_answering_errors_halts_at_the_error_rate_gate_and_the_fixed_app_resumes(
    traffic_cluster: TrafficCluster, tmp_path: Path
) -> None:
    canary, rest = (web_stack(traffic_cluster, tmp_path, name) for name in ("canary", "rest"))
    canary.app("web")["env"]["ERROR_RATE"] = "0.25"  # a quarter of / answered 500, the pods stay ready
    canary.write()
    rest.write()
    (tmp_path / "Fleet.yaml").write_text(textwrap.dedent(FLEET))
    try:
        code, output = fleet(traffic_cluster, tmp_path, "up")
        assert code == 1, output[-4000:]
        assert (
            "HALTED: stack canary (wave canary, cluster traffic) failed gate error rate: 12 s soak: "
            in output
        )
        assert "% > 2%)" in output and "'500'" in output and "https://canary.errgate.local:" in output
        assert "later waves not started: rest" in output
        halted = state(tmp_path)["stacks"]
        assert halted["canary"]["gate"] == "error rate" and halted["rest"]["phase"] == "pending"
        assert not namespace_exists(traffic_cluster, "errgate-rest")
        record("fleet_error_rate_halt", saw=halted["canary"]["saw"])

        del canary.app("web")["env"]["ERROR_RATE"]  # fixed
        canary.write()
        code, output = fleet(traffic_cluster, tmp_path, "up")
        assert code == 0, output[-4000:]
        assert "resuming rollout" in output
        assert "canary: error-rate gate passed: 0/" in output
        assert "rest: error-rate gate passed: 0/" in output
        passed = state(tmp_path)["stacks"]
        assert passed["canary"]["phase"] == passed["rest"]["phase"] == "passed"
        sent = int(passed["canary"]["traffic"].split("/")[1].split(" ")[0])
        assert sent >= 8 * 12 * 0.8  # the soak's requests were sent, not a handful
        record("fleet_error_rate_pass", canary=passed["canary"]["traffic"], rest=passed["rest"]["traffic"])

        code, output = fleet(traffic_cluster, tmp_path, "destroy")
        assert code == 0, output[-4000:]
        assert not namespace_exists(traffic_cluster, "errgate-canary")
    finally:
        canary.destroy()
        rest.destroy()
