"""`rwo-volume-rollout`: the fixtures the rule must pass and must fail
(the rule: policy/hastack_policy/rules/rwo_volume_rollout.py)."""

from __future__ import annotations

from tests.policy.k8s_fixtures import (
    DEV,
)
from tests.policy.rules.cases import Case, edited, fails, fixture_test, passes
from tests.policy.volume_fixtures import no_single_writer_annotation, stateful_stack, strategy

RULE_ID = "rwo-volume-rollout"


PASSING: list[Case] = [
    passes(stateful_stack, label="a declared single writer: Recreate, one replica"),
    passes(
        edited(stateful_stack, "Deployment", "wiki", no_single_writer_annotation),
        config=DEV,
        label="dev allows single writers as they are",
    ),
]

FAILING: list[Case] = [
    fails(
        edited(
            stateful_stack,
            "Deployment",
            "wiki",
            strategy({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}),
        ),
        "Deployment shop/wiki-5e6f7a8b rolls out with RollingUpdate but its pods write to ReadWriteOnce "
        "claim shop/data: the new pod waits for the volume the old pod holds, so the rollout hangs",
        "StatefulSet with volumeClaimTemplates",
        "strategy Recreate, 1 replica and annotation hastack.dev/single-writer",
    ),
    fails(
        edited(stateful_stack, "Deployment", "wiki", lambda p: p["spec"].update(replicas=2)),
        "runs 2 replicas on ReadWriteOnce claim shop/data: pods on other nodes cannot mount it",
        "declares itself a single writer (hastack.dev/single-writer) but runs 2 replicas",
    ),
    fails(
        edited(stateful_stack, "Deployment", "wiki", no_single_writer_annotation),
        "Deployment shop/wiki-5e6f7a8b is a single writer (strategy Recreate on claim data): every "
        "rollout stops it; declare that with annotation hastack.dev/single-writer: '<why>'",
    ),
]

test_fixtures = fixture_test(RULE_ID, PASSING, FAILING)
